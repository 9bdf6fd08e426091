/** Outbox (events written in the producer's transaction) and consumer de-duplication. */
import { DataTypes, QueryInterface } from "sequelize";
import { pk } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("outbox", {
    id: pk(qi),
    event_id: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    producer: { type: DataTypes.STRING(64), allowNull: false },
    channel: { type: DataTypes.STRING(128), allowNull: false },
    payload: { type: qi.sequelize.getDialect() === "sqlite" ? DataTypes.TEXT : DataTypes.TEXT("long"), allowNull: false },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    created_at: { type: DataTypes.DATE, allowNull: false },
    published_at: { type: DataTypes.DATE, allowNull: true },
  });
  await qi.addIndex("outbox", ["producer", "published_at", "id"], { name: "outbox_pending" });
  await qi.createTable("processed_events", {
    consumer: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
    event_id: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("processed_events");
  await qi.dropTable("outbox");
}
