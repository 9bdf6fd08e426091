/**
 * Sales analytics (GET /admin/stats/*): answer types and their OpenAPI schemas. Figures come from
 * the orders service's own rollup (services/orders/stats-store.ts), kept from its own events.
 *
 * Attribution: an order counts in `orders` when it was created in the period; in `paidOrders`,
 * `gmv` and `units` when it was paid in the period; a refund when its money went back in the
 * period. `conversion` is the share of the period's created orders that have been paid (by now).
 */
import { s, schemaOf } from "../shared/schema";

export type StatsInterval = "day" | "hour";

export interface StatsPeriodParams {
  /** first local day, YYYY-MM-DD */
  from?: string;
  /** last local day (inclusive), YYYY-MM-DD */
  to?: string;
  /** IANA time zone the days are local to; default SHOP_TIMEZONE */
  tz?: string;
  currency?: string;
}
export interface StatsSalesParams extends StatsPeriodParams {
  interval?: StatsInterval;
}
export interface StatsTopParams extends StatsPeriodParams {
  limit?: number;
  sort?: "gmv" | "units";
}

export interface StatsPeriod {
  from: string;
  to: string;
  tz: string;
  currency: string;
  /** the period as instants: [start, end) */
  start: string;
  end: string;
}

export interface StatsOverviewDto extends StatsPeriod {
  /** orders created in the period */
  orders: number;
  /** their payable total, fen */
  ordersAmount: number;
  /** orders paid in the period */
  paidOrders: number;
  /** paid amount (GMV), fen */
  gmv: number;
  /** units sold in the paid orders */
  units: number;
  /** gmv / paidOrders rounded to a fen; null without paid orders */
  averageOrderValue: number | null;
  /** refunds completed in the period */
  refunds: number;
  refundAmount: number;
  /** orders created in the period that are paid by now */
  convertedOrders: number;
  /** convertedOrders / orders (0..1); null without orders */
  conversion: number | null;
}

export interface StatsSalesPoint {
  /** the bucket's first instant */
  at: string;
  /** local day or hour, e.g. "2026-03-01" or "2026-03-01 13:00" */
  label: string;
  orders: number;
  paidOrders: number;
  gmv: number;
  units: number;
  refunds: number;
  refundAmount: number;
}

export interface StatsTopProduct {
  productId: number;
  /** the title as sold (the order lines' snapshot) */
  title: string;
  units: number;
  /** what buyers paid for these lines after discounts, fen */
  gmv: number;
  /** paid orders containing the product */
  orders: number;
}

const count = () => s.integer({ minimum: 0 });
const period = {
  from: s.string({ description: "first local day, YYYY-MM-DD" }),
  to: s.string({ description: "last local day (inclusive), YYYY-MM-DD" }),
  tz: s.string({ description: "IANA time zone of the days" }),
  currency: s.string(),
  start: s.dateTime(),
  end: s.dateTime(),
};

export const StatsOverviewSchema = schemaOf<StatsOverviewDto>()(
  s.named(
    "StatsOverview",
    s.object({
      ...period,
      orders: count(),
      ordersAmount: s.money(),
      paidOrders: count(),
      gmv: s.money(),
      units: count(),
      averageOrderValue: s.nullable(s.money()),
      refunds: count(),
      refundAmount: s.money(),
      convertedOrders: count(),
      conversion: s.nullable(s.number()),
    }),
  ),
);

export const StatsSalesSchema = schemaOf<StatsSalesPoint[]>()(
  s.array(
    s.named(
      "StatsSalesPoint",
      s.object({ at: s.dateTime(), label: s.string(), orders: count(), paidOrders: count(), gmv: s.money(), units: count(), refunds: count(), refundAmount: s.money() }),
    ),
  ),
);

export const StatsTopProductsSchema = schemaOf<StatsTopProduct[]>()(
  s.array(s.named("StatsTopProduct", s.object({ productId: s.integer(), title: s.string(), units: count(), gmv: s.money(), orders: count() }))),
);
