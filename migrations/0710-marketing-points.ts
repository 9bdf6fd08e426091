/**
 * The points ledger of the marketing service.
 *
 * `points_accounts` holds each user's spendable `balance` and the `frozen` points held by unpaid
 * orders; both only move by conditional UPDATEs that keep them at or above zero.
 * `points_ledger` is append-only, one row per change, unique per (reference, kind): the same
 * order cannot be frozen, spent or credited twice, nor one refund or admin grant applied twice.
 * `points_orders` is each order's points: the hold (FROZEN → RELEASED | SPENT, compare-and-set),
 * what payment earned, and the running total refunded (which the refund shares are computed on).
 * `points_refunds` records each refund once, with what it returned, took back and could not.
 */
import { DataTypes, QueryInterface } from "sequelize";
import { money, pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("points_accounts", {
    user_id: { ...ref(qi), primaryKey: true },
    balance: money(),
    frozen: money(),
    ...timestamps(),
  });
  await qi.createTable("points_ledger", {
    id: pk(qi),
    user_id: ref(qi),
    kind: { type: DataTypes.STRING(16), allowNull: false },
    delta: money(false, undefined),
    frozen_delta: money(false, undefined),
    balance_after: money(false, undefined),
    reason: { type: DataTypes.STRING(255), allowNull: false },
    reference: { type: DataTypes.STRING(200), allowNull: false },
    order_no: { type: DataTypes.STRING(64), allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("points_ledger", ["reference", "kind"], { name: "points_ledger_once", unique: true });
  await qi.addIndex("points_ledger", ["user_id", "id"], { name: "points_ledger_user" });
  await qi.createTable("points_orders", {
    order_no: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
    user_id: ref(qi, true),
    points: money(),
    status: { type: DataTypes.STRING(16), allowNull: false },
    payable: money(true, undefined),
    earned: money(),
    refunded_amount: money(),
    paid_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });
  await qi.createTable("points_refunds", {
    refund_id: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
    order_no: { type: DataTypes.STRING(64), allowNull: false },
    user_id: ref(qi),
    amount: money(false, undefined),
    returned: money(),
    revoked: money(),
    shortfall: money(),
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("points_refunds", ["order_no"], { name: "points_refunds_order" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  for (const t of ["points_refunds", "points_orders", "points_ledger", "points_accounts"]) await qi.dropTable(t);
}
