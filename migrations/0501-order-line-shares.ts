/**
 * Each order line keeps its share of the order's promotion, coupon and points (split by the
 * largest-remainder method, services/orders/domain/pricing.ts), so a partial refund knows what
 * the line cost the buyer. Lines written before carry no discount: they cost their subtotal.
 */
import { QueryInterface } from "sequelize";
import { money, ref } from "./helpers";

const COLUMNS = ["promotion_id", "promotion_discount", "coupon_discount", "points_deduction", "payable"] as const;

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.addColumn("order_lines", "promotion_id", ref(qi, true));
  await qi.addColumn("order_lines", "promotion_discount", money());
  await qi.addColumn("order_lines", "coupon_discount", money());
  await qi.addColumn("order_lines", "points_deduction", money());
  await qi.addColumn("order_lines", "payable", money());
  await qi.sequelize.query("UPDATE order_lines SET payable = subtotal");
}

export async function down({ context: qi }: { context: QueryInterface }) {
  for (const c of [...COLUMNS].reverse()) await qi.removeColumn("order_lines", c);
}

