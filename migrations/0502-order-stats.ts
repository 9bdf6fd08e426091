/**
 * The sales rollup (services/orders/stats-store.ts): sums per quarter hour, hour, UTC day and
 * month, kept by the orders service's own consumer of order.created / order.paid /
 * order.refunded, so the analytics never scan the orders table. An index on paid_at serves the
 * quarter-hour edges of top-product periods, one on created_at the console's order list by day. A shop that already has orders gets them counted.
 */
import { DataTypes, QueryInterface } from "sequelize";
import { money } from "./helpers";
import { rebuildStats } from "../services/orders/stats-store";

const count = () => ({ type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 });
const key = () => ({
  level: { type: DataTypes.STRING(1), allowNull: false, primaryKey: true },
  currency: { type: DataTypes.STRING(3), allowNull: false, primaryKey: true },
  // the unit's first minute since the epoch, UTC
  bucket: { type: DataTypes.BIGINT, allowNull: false, primaryKey: true },
});

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("order_stats", {
    ...key(),
    created: count(),
    created_amount: money(),
    paid: count(),
    gmv: money(),
    units: count(),
    converted: count(),
    refunds: count(),
    refund_amount: money(),
  });
  await qi.createTable("order_stats_products", {
    ...key(),
    product_id: { type: DataTypes.BIGINT, allowNull: false, primaryKey: true },
    title: { type: DataTypes.STRING(200), allowNull: false, defaultValue: "" },
    units: count(),
    gmv: money(),
    orders: count(),
  });
  await qi.addIndex("orders", ["paid_at"], { name: "orders_paid_at" });
  // the console lists orders by creation day
  await qi.addIndex("orders", ["created_at"], { name: "orders_created_at" });
  const [[{ n }]] = (await qi.sequelize.query("SELECT COUNT(*) AS n FROM orders")) as [{ n: number }[], unknown];
  if (Number(n) > 0) await rebuildStats(qi.sequelize);
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.removeIndex("orders", "orders_created_at");
  await qi.removeIndex("orders", "orders_paid_at");
  await qi.dropTable("order_stats_products");
  await qi.dropTable("order_stats");
}
