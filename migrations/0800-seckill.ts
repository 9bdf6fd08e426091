/**
 * Seckill (flash sales): events and the tickets the order writer turned into orders.
 *
 * `claimed` counts the units the database knows are taken by tickets (accepted by the writer and
 * not given back). It only moves by conditional UPDATEs and the database keeps it inside
 * 0..quantity: the last line against overselling when the Redis store lost its keys and was
 * rebuilt while tickets were still in flight.
 */
import { DataTypes, Op, QueryInterface, col } from "sequelize";
import { money, pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("seckill_events", {
    id: pk(qi),
    sku_id: ref(qi),
    title: { type: DataTypes.STRING(128), allowNull: false },
    price: money(false, undefined),
    sku_price: money(false, undefined),
    currency: { type: DataTypes.STRING(3), allowNull: false },
    quantity: { type: DataTypes.INTEGER, allowNull: false },
    per_user_limit: { type: DataTypes.INTEGER, allowNull: false },
    start_at: { type: DataTypes.DATE, allowNull: false },
    end_at: { type: DataTypes.DATE, allowNull: false },
    /** SCHEDULED → ENDING → ENDED, SCHEDULED → CANCELLED */
    status: { type: DataTypes.STRING(16), allowNull: false },
    claimed: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    /** units given back to normal stock when the sale ended */
    returned_units: { type: DataTypes.INTEGER, allowNull: true },
    sku_snapshot: { type: DataTypes.TEXT, allowNull: false },
    ...timestamps(),
  });
  await qi.addConstraint("seckill_events", {
    type: "check",
    name: "seckill_events_claimed_range",
    fields: ["claimed"],
    where: { claimed: { [Op.gte]: 0, [Op.lte]: col("quantity") } },
  });
  await qi.addIndex("seckill_events", ["sku_id", "status"], { name: "seckill_events_sku" });
  await qi.addIndex("seckill_events", ["status", "end_at"], { name: "seckill_events_status" });

  await qi.createTable("seckill_tickets", {
    id: pk(qi),
    ticket: { type: DataTypes.STRING(48), allowNull: false },
    event_id: { ...ref(qi), references: { model: "seckill_events", key: "id" } },
    user_id: ref(qi),
    quantity: { type: DataTypes.INTEGER, allowNull: false },
    /** ACCEPTED → ORDERED → PAID | EXPIRED; ACCEPTED → FAILED */
    status: { type: DataTypes.STRING(16), allowNull: false },
    order_no: { type: DataTypes.STRING(32), allowNull: true },
    reason: { type: DataTypes.STRING(255), allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("seckill_tickets", ["ticket"], { name: "seckill_tickets_ticket", unique: true });
  await qi.addIndex("seckill_tickets", ["event_id", "user_id", "ticket"], { name: "seckill_tickets_buyer", unique: true });
  await qi.addIndex("seckill_tickets", ["order_no"], { name: "seckill_tickets_order", unique: true });
  await qi.addIndex("seckill_tickets", ["event_id", "status"], { name: "seckill_tickets_status" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("seckill_tickets");
  await qi.dropTable("seckill_events");
}
