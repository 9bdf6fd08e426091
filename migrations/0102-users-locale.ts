/**
 * The language a user reads messages in (services/messages picks the template's locale by it):
 * "zh-CN" (the default, and what every existing account gets) or "en".
 */
import { DataTypes, QueryInterface } from "sequelize";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.addColumn("users", "locale", { type: DataTypes.STRING(8), allowNull: false, defaultValue: "zh-CN" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.removeColumn("users", "locale");
}
