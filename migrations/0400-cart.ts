/**
 * Cart lines for the embedded shape (the cluster keeps carts in a Redis hash per user). `carts`
 * holds one row per user with a cart: the row writers lock so that the 100-line limit is checked
 * and applied atomically.
 */
import { DataTypes, QueryInterface } from "sequelize";
import { ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("carts", {
    user_id: { ...ref(qi), primaryKey: true },
    ...timestamps(),
  });
  await qi.createTable("cart_lines", {
    user_id: { ...ref(qi), primaryKey: true },
    sku_id: { ...ref(qi), primaryKey: true },
    quantity: { type: DataTypes.INTEGER, allowNull: false },
    selected: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    added_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("cart_lines");
  await qi.dropTable("carts");
}
