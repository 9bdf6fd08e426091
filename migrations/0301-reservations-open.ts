/**
 * The orphan reconciler pages through OPEN reservations in id order every minute; without this
 * index that is a scan of every reservation ever made.
 */
import { QueryInterface } from "sequelize";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.addIndex("reservations", ["status", "id"], { name: "reservations_status" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.removeIndex("reservations", "reservations_status");
}
