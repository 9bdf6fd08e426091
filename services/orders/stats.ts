/**
 * Sales analytics of the orders service: the admin routes GET /admin/stats/{overview,sales,
 * top-products} and the consumers that keep the rollup (stats-store.ts) from the service's own
 * events. Spread into orders.service.ts (`...statsActions`, `...statsChannels`): moleculer merges
 * a mixin's `channels` by replacing them, so these are plain objects.
 *
 * Reads are admin-only: revenue is not an operator's business (the console shows operators the
 * operational widgets — refunds to handle, low stock — from the routes they may call). Answers
 * are cached STATS_CACHE_TTL seconds per parameter set; the consumers lag the orders by the time
 * an event takes to travel (milliseconds when the cluster is healthy).
 */
import type { Context } from "moleculer";
import type { Transaction } from "sequelize";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import { isTransientTxError } from "../shared/db";
import { validationError } from "../shared/errors";
import type { Meta } from "../shared/meta";
import { stableKey } from "../catalog/cache";
import { DEFAULT_CURRENCY } from "./domain/pricing";
import { Period, PeriodInput, resolvePeriod } from "./domain/stats-period";
import { dayBuckets, hourBuckets } from "./domain/stats-time";
import { OrderCreatedEvent, OrderEvents, OrderPaidEvent, OrderRefundedEvent } from "./orders.contracts";
import { STATS_CONSUMER, StatsDelta, StatsStore, Totals } from "./stats-store";
import {
  StatsOverviewDto,
  StatsOverviewSchema,
  StatsSalesParams,
  StatsSalesPoint,
  StatsSalesSchema,
  StatsTopParams,
  StatsTopProduct,
  StatsTopProductsSchema,
} from "./stats.contracts";
import type { OrdersThis } from "./orders.service";

type Ctx<P> = Context<P, Meta>;

const MAX_DAYS = 366;
const MAX_HOUR_DAYS = 31;

const periodParams = {
  from: { type: "string", max: 10, optional: true, trim: true },
  to: { type: "string", max: 10, optional: true, trim: true },
  tz: { type: "string", min: 1, max: 64, optional: true, trim: true },
  currency: { type: "string", length: 3, optional: true, trim: true },
};

function period(host: OrdersThis, input: PeriodInput, defaultDays: number, maxDays = MAX_DAYS): Period {
  const r = resolvePeriod(input, { defaultTz: host.cfg.shopTimezone, defaultCurrency: DEFAULT_CURRENCY, defaultDays, maxDays, now: Date.now() });
  if ("errors" in r) throw validationError(r.errors);
  return r.period;
}

const periodDto = (p: Period) => ({ from: p.from, to: p.to, tz: p.tz, currency: p.currency, start: new Date(p.start).toISOString(), end: new Date(p.end).toISOString() });

/** `compute` once per STATS_CACHE_TTL for the same answer key (the broker's cacher: Redis in the cluster). */
async function cached<T>(host: OrdersThis, kind: string, p: Period, extra: unknown, compute: () => Promise<T>): Promise<T> {
  const ttl = host.cfg.statsCacheTtlSec;
  const cacher = host.broker.cacher;
  if (!cacher || ttl === 0) return compute();
  const key = `orders.stats:${kind}:${stableKey({ from: p.from, to: p.to, tz: p.tz, currency: p.currency, extra })}`;
  const hit = (await cacher.get(key).catch(() => null)) as T | null;
  if (hit !== null && hit !== undefined) return hit;
  const value = await compute();
  await cacher.set(key, value, ttl).catch((err: Error) => host.logger.warn(`stats cache write failed: ${err.message}`));
  return value;
}

export function overviewDto(p: Period, t: Totals): StatsOverviewDto {
  return {
    ...periodDto(p),
    orders: t.created,
    ordersAmount: t.created_amount,
    paidOrders: t.paid,
    gmv: t.gmv,
    units: t.units,
    averageOrderValue: t.paid > 0 ? Math.round(t.gmv / t.paid) : null,
    refunds: t.refunds,
    refundAmount: t.refund_amount,
    convertedOrders: t.converted,
    conversion: t.created > 0 ? Math.round((t.converted / t.created) * 10_000) / 10_000 : null,
  };
}

export const statsActions = {
  statsOverview: {
    rest: "GET /admin/stats/overview",
    roles: ["admin"],
    openapi: { response: StatsOverviewSchema },
    summary: "Sales figures of a period of local days (admin only): orders, GMV, average order value, refunds, conversion created → paid",
    params: periodParams,
    async handler(this: OrdersThis, ctx: Ctx<PeriodInput>): Promise<StatsOverviewDto> {
      const p = period(this, ctx.params, 1);
      return cached(this, "overview", p, null, async () => overviewDto(p, await this.statsStore.overview(p)));
    },
  },

  statsSales: {
    rest: "GET /admin/stats/sales",
    roles: ["admin"],
    openapi: { response: StatsSalesSchema },
    summary: "Orders, paid orders and GMV per local day (default, ≤ 366 days) or hour (≤ 31 days) (admin only)",
    params: { ...periodParams, interval: { type: "enum", values: ["day", "hour"], optional: true } },
    async handler(this: OrdersThis, ctx: Ctx<StatsSalesParams>): Promise<StatsSalesPoint[]> {
      const interval = ctx.params.interval ?? "day";
      const p = interval === "hour" ? period(this, ctx.params, 1, MAX_HOUR_DAYS) : period(this, ctx.params, 30);
      return cached(this, "sales", p, interval, async () => {
        const buckets = interval === "hour" ? hourBuckets(p.tz, p.from, p.to) : dayBuckets(p.tz, p.from, p.to);
        const sums = await this.statsStore.series(p, buckets);
        return buckets.map((b, i) => ({
          at: new Date(b.start).toISOString(),
          label: b.label,
          orders: sums[i].created,
          paidOrders: sums[i].paid,
          gmv: sums[i].gmv,
          units: sums[i].units,
          refunds: sums[i].refunds,
          refundAmount: sums[i].refund_amount,
        }));
      });
    },
  },

  statsTopProducts: {
    rest: "GET /admin/stats/top-products",
    roles: ["admin"],
    openapi: { response: StatsTopProductsSchema },
    summary: "Best-selling products of a period by paid amount or units (admin only)",
    params: {
      ...periodParams,
      limit: { type: "number", integer: true, min: 1, max: 100, default: 10, convert: true },
      sort: { type: "enum", values: ["gmv", "units"], optional: true },
    },
    async handler(this: OrdersThis, ctx: Ctx<StatsTopParams>): Promise<StatsTopProduct[]> {
      const p = period(this, ctx.params, 30);
      const limit = ctx.params.limit ?? 10;
      const sort = ctx.params.sort ?? "gmv";
      return cached(this, "top", p, [limit, sort], () => this.statsStore.topProducts(p, limit, sort));
    },
  },
};

/**
 * Add one fact to the rollup, once: the marker (`created:<orderNo>`, …) and the sums share a
 * transaction. Concurrent consumers touch the same hour/day/month rows, so a deadlock is
 * retried here rather than bounced through a redelivery.
 */
async function count(host: OrdersThis, factId: string, build: (t: Transaction) => Promise<StatsDelta | null>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await host.once(STATS_CONSUMER, factId, async (t) => {
        const delta = await build(t);
        if (delta && !delta.empty) await host.statsStore.flush(delta, t);
      });
      return;
    } catch (err) {
      if (attempt >= 5 || !isTransientTxError(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
    }
  }
}

async function orderFacts(host: OrdersThis, orderNo: string, t: Transaction) {
  const { orders, lines } = await host.statsStore.ordersFacts([orderNo], t);
  if (!orders.length) host.logger.error(`stats: event for unknown order ${orderNo}; not counted`);
  return { order: orders[0], lines: lines.get(orderNo) ?? [] };
}

// keyed by channel name: the orders service consumes none of its own events otherwise (a label
// key would need the namespaced channel in `name`)
const consumer = { group: STATS_CONSUMER, maxInFlight: 8, maxRetries: 10 };

export const statsChannels = {
  [OrderEvents.CREATED]: {
    ...consumer,
    async handler(this: OrdersThis, env: EventEnvelope<OrderCreatedEvent>) {
      await count(this, `created:${env.data.orderNo}`, async (t) => {
        const { order } = await orderFacts(this, env.data.orderNo, t);
        if (!order) return null;
        const d = new StatsDelta();
        d.created(order);
        return d;
      });
    },
  },
  [OrderEvents.PAID]: {
    ...consumer,
    async handler(this: OrdersThis, env: EventEnvelope<OrderPaidEvent>) {
      await count(this, `paid:${env.data.orderNo}`, async (t) => {
        const { order, lines } = await orderFacts(this, env.data.orderNo, t);
        if (!order) return null;
        const d = new StatsDelta();
        d.paid(order, lines);
        return d;
      });
    },
  },
  [OrderEvents.REFUNDED]: {
    ...consumer,
    async handler(this: OrdersThis, env: EventEnvelope<OrderRefundedEvent>) {
      await count(this, `refund:${env.data.refundId}`, async (t) => {
        const { order } = await orderFacts(this, env.data.orderNo, t);
        if (!order) return null;
        const d = new StatsDelta();
        d.refunded(env.data.refundId, Date.parse(env.occurredAt), order.currency, Number(env.data.amount));
        return d;
      });
    },
  },
};
