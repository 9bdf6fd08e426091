/**
 * Orders: the order with its price snapshot and address snapshot, its lines, the timeline
 * (order_events), after-sales (refund) requests and the Idempotency-Key claims of POST /orders.
 * Money columns are BIGINT fen.
 */
import { DataTypes, QueryInterface } from "sequelize";
import { money, pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  const orderNo = (allowNull = false) => ({ type: DataTypes.STRING(32), allowNull });
  await qi.createTable("orders", {
    id: pk(qi),
    order_no: { ...orderNo(), unique: true },
    user_id: ref(qi),
    status: { type: DataTypes.STRING(20), allowNull: false },
    source: { type: DataTypes.STRING(16), allowNull: false, defaultValue: "NORMAL" },
    items_total: money(),
    discount: money(),
    points_deduction: money(),
    points_used: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    shipping_fee: money(),
    payable: money(),
    currency: { type: DataTypes.STRING(3), allowNull: false, defaultValue: "CNY" },
    coupon_id: ref(qi, true),
    address_snapshot: { type: DataTypes.TEXT, allowNull: false },
    remark: { type: DataTypes.STRING(255), allowNull: false, defaultValue: "" },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    paid_at: { type: DataTypes.DATE, allowNull: true },
    payment_no: { type: DataTypes.STRING(64), allowNull: true },
    carrier: { type: DataTypes.STRING(64), allowNull: true },
    tracking_no: { type: DataTypes.STRING(64), allowNull: true },
    shipped_at: { type: DataTypes.DATE, allowNull: true },
    completed_at: { type: DataTypes.DATE, allowNull: true },
    cancelled_at: { type: DataTypes.DATE, allowNull: true },
    cancel_reason: { type: DataTypes.STRING(255), allowNull: true },
    // set once the reservation of a cancelled order was released (the sweeper retries until then)
    stock_released_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("orders", ["user_id", "id"], { name: "orders_user" });
  await qi.addIndex("orders", ["status", "expires_at"], { name: "orders_status_expiry" });
  await qi.addIndex("orders", ["status", "id"], { name: "orders_status" });

  await qi.createTable("order_lines", {
    id: pk(qi),
    order_no: orderNo(),
    sku_id: ref(qi),
    product_id: ref(qi),
    sku_code: { type: DataTypes.STRING(64), allowNull: false },
    title: { type: DataTypes.STRING(200), allowNull: false },
    attrs: { type: DataTypes.TEXT, allowNull: false },
    image_url: { type: DataTypes.STRING(512), allowNull: true },
    unit_price: money(false, undefined),
    quantity: { type: DataTypes.INTEGER, allowNull: false },
    subtotal: money(false, undefined),
  });
  await qi.addIndex("order_lines", ["order_no", "sku_id"], { name: "order_lines_order_sku", unique: true });

  await qi.createTable("order_events", {
    id: pk(qi),
    order_no: orderNo(),
    from_status: { type: DataTypes.STRING(20), allowNull: true },
    status: { type: DataTypes.STRING(20), allowNull: false },
    actor: { type: DataTypes.STRING(64), allowNull: false },
    note: { type: DataTypes.STRING(255), allowNull: false, defaultValue: "" },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("order_events", ["order_no", "id"], { name: "order_events_order" });

  await qi.createTable("aftersales", {
    id: pk(qi),
    order_no: orderNo(),
    user_id: ref(qi),
    status: { type: DataTypes.STRING(16), allowNull: false },
    reason: { type: DataTypes.STRING(255), allowNull: false },
    amount: money(false, undefined),
    currency: { type: DataTypes.STRING(3), allowNull: false, defaultValue: "CNY" },
    // the order status the request moved the order from; a rejection returns it there
    order_status_before: { type: DataTypes.STRING(20), allowNull: false },
    note: { type: DataTypes.STRING(255), allowNull: true },
    refund_no: { type: DataTypes.STRING(64), allowNull: true },
    handled_by: ref(qi, true),
    // set once the stock of an approved refund on an unshipped order was given back
    stock_returned_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("aftersales", ["order_no"], { name: "aftersales_order" });
  await qi.addIndex("aftersales", ["status", "id"], { name: "aftersales_status" });

  await qi.createTable("idempotency_keys", {
    user_id: { ...ref(qi), primaryKey: true },
    idem_key: { type: DataTypes.STRING(128), allowNull: false, primaryKey: true },
    request_hash: { type: DataTypes.STRING(64), allowNull: false },
    order_no: orderNo(true),
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("idempotency_keys", ["created_at"], { name: "idempotency_keys_age" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  for (const t of ["idempotency_keys", "aftersales", "order_events", "order_lines", "orders"]) await qi.dropTable(t);
}
