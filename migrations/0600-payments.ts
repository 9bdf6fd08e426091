/**
 * Payments, the provider events received for them (each stored once) and refunds.
 *
 * `payments.active_order_no` holds the order number while a payment is PENDING or SUCCEEDED and
 * NULL otherwise: its unique index is what allows at most one open-or-paid payment per order,
 * however many requests race. `payment_events` is unique per provider transaction id (a provider
 * retrying its callback inserts nothing new) and per nonce. `refunds.after_sales_id` is unique:
 * one refund per after-sales request, whoever asks how often.
 */
import { DataTypes, QueryInterface } from "sequelize";
import { money, pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  const text = qi.sequelize.getDialect() === "sqlite" ? DataTypes.TEXT : DataTypes.TEXT("medium");
  await qi.createTable("payments", {
    id: pk(qi),
    payment_no: { type: DataTypes.STRING(32), allowNull: false, unique: true },
    order_no: { type: DataTypes.STRING(64), allowNull: false },
    active_order_no: { type: DataTypes.STRING(64), allowNull: true, unique: true },
    user_id: ref(qi),
    channel: { type: DataTypes.STRING(16), allowNull: false },
    amount: money(false, undefined),
    currency: { type: DataTypes.STRING(3), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    provider_txn_id: { type: DataTypes.STRING(64), allowNull: true },
    refunded_amount: money(),
    failure_reason: { type: DataTypes.STRING(255), allowNull: true },
    paid_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("payments", ["order_no"], { name: "payments_order" });
  await qi.addIndex("payments", ["status", "channel", "updated_at"], { name: "payments_sweep" });

  await qi.createTable("payment_events", {
    id: pk(qi),
    provider: { type: DataTypes.STRING(16), allowNull: false },
    provider_txn_id: { type: DataTypes.STRING(64), allowNull: false },
    nonce: { type: DataTypes.STRING(64), allowNull: false },
    payment_no: { type: DataTypes.STRING(32), allowNull: false },
    result: { type: DataTypes.STRING(16), allowNull: false },
    amount: money(false, undefined),
    currency: { type: DataTypes.STRING(3), allowNull: false },
    /** what the event did: APPLIED (moved the payment) or IGNORED (payment was no longer PENDING) */
    effect: { type: DataTypes.STRING(16), allowNull: false },
    raw_body: { type: text, allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("payment_events", ["provider", "provider_txn_id"], { name: "payment_events_txn", unique: true });
  await qi.addIndex("payment_events", ["provider", "nonce"], { name: "payment_events_nonce", unique: true });
  await qi.addIndex("payment_events", ["payment_no"], { name: "payment_events_payment" });

  await qi.createTable("refunds", {
    id: pk(qi),
    refund_no: { type: DataTypes.STRING(32), allowNull: false, unique: true },
    payment_no: { type: DataTypes.STRING(32), allowNull: false },
    order_no: { type: DataTypes.STRING(64), allowNull: false },
    after_sales_id: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    amount: money(false, undefined),
    currency: { type: DataTypes.STRING(3), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    reason: { type: DataTypes.STRING(255), allowNull: false },
    provider_ref: { type: DataTypes.STRING(64), allowNull: true },
    failure_reason: { type: DataTypes.STRING(255), allowNull: true },
    completed_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("refunds", ["payment_no"], { name: "refunds_payment" });
  await qi.addIndex("refunds", ["status", "updated_at"], { name: "refunds_sweep" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("refunds");
  await qi.dropTable("payment_events");
  await qi.dropTable("payments");
}
