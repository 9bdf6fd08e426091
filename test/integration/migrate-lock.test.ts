/**
 * `migrate()` called several times at once on one fresh database — what nodes started together
 * with MIGRATE_ON_START do — applies every migration exactly once and fails none of the callers.
 * MariaDB: separate connections, serialised by GET_LOCK. SQLite: one process, one mutex.
 * (test/e2e/startup-race.test.ts does the same with real node processes.)
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { QueryTypes } from "sequelize";
import { acquireSequelize, dropDatabase, releaseSequelize } from "../../services/shared/db";
import { MIGRATIONS_DIR, migrate } from "../../services/shared/migrator";
import { testEnv } from "../helpers/shop";

const all = fs
  .readdirSync(MIGRATIONS_DIR)
  .filter((f) => /^\d{4}-.+\.ts$/.test(f))
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();

describe.each(["embedded", "cluster"] as const)("concurrent migrate() on a fresh database (%s)", (shape) => {
  const env = testEnv(shape, crypto.randomBytes(4).toString("hex"));
  afterAll(async () => {
    await dropDatabase(env.DATABASE_URL);
    fs.rmSync(env.DATA_DIR, { recursive: true, force: true });
  });

  it("four callers at once: no error, each migration applied once", async () => {
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => migrate(env.DATABASE_URL)));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const applied = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
    expect(applied.sort()).toEqual(all);
    const db = acquireSequelize(env.DATABASE_URL);
    try {
      const rows = await db.query<{ name: string }>("SELECT name FROM mall_migrations ORDER BY name", { type: QueryTypes.SELECT });
      expect(rows.map((r) => r.name)).toEqual(all);
    } finally {
      await releaseSequelize(env.DATABASE_URL);
    }
  });
});
