/**
 * Parts of a hold: a reservation that sets units aside for another owner (a flash sale's event,
 * reference `seckill:<id>`) is committed or released a few units at a time, each part once per
 * key (the order number that paid, the ticket whose unit came back, "end" for the sale's end).
 * The unique key (reservation_id, part_key) makes every part idempotent.
 */
import { DataTypes, QueryInterface } from "sequelize";
import { pk, ref } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("reservation_parts", {
    id: pk(qi),
    reservation_id: { ...ref(qi), references: { model: "reservations", key: "id" }, onDelete: "CASCADE" },
    part_key: { type: DataTypes.STRING(96), allowNull: false },
    action: { type: DataTypes.STRING(16), allowNull: false },
    sku_id: ref(qi),
    quantity: { type: DataTypes.INTEGER, allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("reservation_parts", ["reservation_id", "part_key"], { name: "reservation_parts_key", unique: true });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("reservation_parts");
}
