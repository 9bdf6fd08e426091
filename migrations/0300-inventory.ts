/**
 * Inventory: stock per SKU, reservations (one per reference, e.g. an order number) with their
 * lines, and the append-only movement log. Invariant enforced by the database as well as by the
 * conditional updates: 0 <= reserved <= on_hand.
 */
import { DataTypes, Op, QueryInterface, col } from "sequelize";
import { pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("stock", {
    sku_id: { ...ref(qi), primaryKey: true },
    on_hand: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    reserved: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    low_stock_threshold: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    ...timestamps(),
  });
  await qi.addConstraint("stock", {
    type: "check",
    name: "stock_reserved_range",
    fields: ["reserved"],
    where: { reserved: { [Op.gte]: 0, [Op.lte]: col("on_hand") } },
  });
  await qi.addConstraint("stock", {
    type: "check",
    name: "stock_threshold_range",
    fields: ["low_stock_threshold"],
    where: { low_stock_threshold: { [Op.gte]: 0 } },
  });

  await qi.createTable("reservations", {
    id: pk(qi),
    reference: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    status: { type: DataTypes.STRING(16), allowNull: false },
    ...timestamps(),
  });
  await qi.createTable("reservation_lines", {
    id: pk(qi),
    reservation_id: { ...ref(qi), references: { model: "reservations", key: "id" }, onDelete: "CASCADE" },
    sku_id: ref(qi),
    quantity: { type: DataTypes.INTEGER, allowNull: false },
  });
  await qi.addIndex("reservation_lines", ["reservation_id", "sku_id"], { name: "reservation_lines_sku", unique: true });

  await qi.createTable("stock_movements", {
    id: pk(qi),
    sku_id: ref(qi),
    type: { type: DataTypes.STRING(16), allowNull: false },
    on_hand_delta: { type: DataTypes.INTEGER, allowNull: false },
    reserved_delta: { type: DataTypes.INTEGER, allowNull: false },
    reason: { type: DataTypes.STRING(255), allowNull: true },
    reference: { type: DataTypes.STRING(128), allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("stock_movements", ["sku_id", "id"], { name: "stock_movements_sku" });
  await qi.addIndex("stock_movements", ["reference"], { name: "stock_movements_reference" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("stock_movements");
  await qi.dropTable("reservation_lines");
  await qi.dropTable("reservations");
  await qi.dropTable("stock");
}
