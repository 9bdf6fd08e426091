/**
 * Dead letters: channel messages a consumer group gave up on, one row per (group, event), kept
 * with their payload so an operator can look at them and replay them (services/ops).
 */
import { DataTypes, QueryInterface } from "sequelize";
import { pk } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  const long = qi.sequelize.getDialect() === "sqlite" ? DataTypes.TEXT : DataTypes.TEXT("long");
  await qi.createTable("dead_letters", {
    id: pk(qi),
    channel: { type: DataTypes.STRING(128), allowNull: false },
    group_name: { type: DataTypes.STRING(128), allowNull: false },
    event_id: { type: DataTypes.STRING(64), allowNull: false },
    payload: { type: long, allowNull: false },
    error: { type: DataTypes.TEXT, allowNull: true },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    status: { type: DataTypes.STRING(16), allowNull: false },
    replays: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    first_failed_at: { type: DataTypes.DATE, allowNull: false },
    last_failed_at: { type: DataTypes.DATE, allowNull: false },
    replayed_at: { type: DataTypes.DATE, allowNull: true },
  });
  await qi.addIndex("dead_letters", ["group_name", "event_id"], { name: "dead_letters_event", unique: true });
  await qi.addIndex("dead_letters", ["status", "id"], { name: "dead_letters_status" });
  await qi.addIndex("dead_letters", ["channel", "id"], { name: "dead_letters_channel" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("dead_letters");
}
