/**
 * A delivery's retry time keeps its milliseconds on both databases (migration 0901, and the
 * model's DATE(3)): on MariaDB it was written in whole seconds, so a retry due later in the same
 * second was due at once — the retries of messages.test.ts sometimes ran without their backoff.
 * The sweeper compares with its "now" in whole seconds there, so a retry is at most a second
 * late, never early.
 */
import crypto from "node:crypto";
import { QueryTypes } from "sequelize";
import { acquireSequelize, ensureDatabase, releaseSequelize } from "../../services/shared/db";
import { buildUmzug } from "../../services/shared/migrator";
import { defineMessagesModels } from "../../models/messages";
import { scratchDatabase } from "../helpers/databases";

describe.each([
  ["SQLite", "sqlite"],
  ["MariaDB", "mysql"],
] as const)("delivery schedule precision (%s)", (_name, dialect) => {
  const id = crypto.randomBytes(4).toString("hex");
  const { url, drop } = scratchDatabase(dialect, "sched");

  beforeAll(async () => {
    await ensureDatabase(url);
    await buildUmzug(acquireSequelize(url)).up();
  }, 60_000);

  afterAll(async () => {
    await releaseSequelize(url);
    await drop();
  });

  it("a retry due later in the same second is not due yet, and its time reads back exactly", async () => {
    const sequelize = acquireSequelize(url);
    const { Delivery } = defineMessagesModels(sequelize);
    const created = new Date();
    await sequelize.query(
      `INSERT INTO message_deliveries (dedupe_key, user_id, channel, template_code, locale, category, status, attempts, created_at, updated_at)
       VALUES (?, NULL, 'email', 'order-paid', 'en', 'transactional', 'SENDING', 1, ?, ?)`,
      { replacements: [`sched-${id}`, created, created] },
    );
    // as the sender schedules a retry (services/messages/delivery.ts finish): 900 ms past a
    // whole second, a minute ahead; then the sweeper looks 600 ms into that same second
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_900);
    await Delivery.update({ status: "RETRYING", nextAttemptAt: at, lockedUntil: null, updatedAt: new Date() }, { where: { dedupeKey: `sched-${id}`, status: "SENDING" } });
    const due = (now: Date) =>
      sequelize.query<{ id: number }>("SELECT id FROM message_deliveries WHERE status IN ('PENDING', 'RETRYING') AND next_attempt_at <= ?", {
        replacements: [now],
        type: QueryTypes.SELECT,
      });
    expect(await due(new Date(at.getTime() - 300))).toEqual([]);
    const row = await Delivery.findOne({ where: { dedupeKey: `sched-${id}` }, raw: true });
    expect(new Date(row!.nextAttemptAt!).getTime()).toBe(at.getTime());
    // and due once its time has passed (within the second after it, where "now" is whole seconds)
    expect(await due(new Date(at.getTime() + 1000))).toHaveLength(1);
  });
});
