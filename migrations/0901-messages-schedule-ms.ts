/**
 * Delivery schedules to the millisecond on MySQL/MariaDB. `next_attempt_at` and `locked_until`
 * were DATETIME, which keeps whole seconds (MariaDB truncates the fraction), so a retry due in
 * 100 ms, or 30 s, was stored up to a second earlier and sent early, and a send lock expired
 * early by as much (test/integration/messages-schedule.test.ts). SQLite stores the milliseconds.
 */
import { QueryInterface } from "sequelize";

const COLUMNS = ["next_attempt_at", "locked_until"];

async function precision(qi: QueryInterface, fsp: string) {
  if (qi.sequelize.getDialect() === "sqlite") return;
  await qi.sequelize.query(`ALTER TABLE message_deliveries ${COLUMNS.map((c) => `MODIFY ${c} DATETIME${fsp} NULL`).join(", ")}`);
}

export async function up({ context: qi }: { context: QueryInterface }) {
  await precision(qi, "(3)");
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await precision(qi, "");
}
