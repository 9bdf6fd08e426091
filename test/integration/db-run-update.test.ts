/**
 * Row counts of conditional updates on both dialects (services/shared/db.ts). Every
 * compare-and-set in the shop trusts these numbers, so they are checked against real SQLite and
 * MariaDB, including the raw-query shape that carries no count on SQLite.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, affectedRows, dropDatabase, ensureDatabase, isTransientTxError, releaseSequelize, runUpdate } from "../../services/shared/db";
import { MYSQL } from "../helpers/shop";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-db-"));
const urls = {
  sqlite: `sqlite:${path.join(dir, "t.sqlite")}`,
  mysql: `${MYSQL}/mall_t${crypto.randomBytes(4).toString("hex")}`,
};

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(Object.entries(urls))("runUpdate on %s", (dialect, url) => {
  let s: Sequelize;

  beforeAll(async () => {
    await ensureDatabase(url);
    s = acquireSequelize(url);
    await s.query("CREATE TABLE counters (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  });
  beforeEach(async () => {
    await s.query("DELETE FROM counters");
    await s.query("INSERT INTO counters (id, v) VALUES (1, 5), (2, 5), (3, 0)");
  });
  afterAll(async () => {
    await releaseSequelize(url);
    await dropDatabase(url);
  });

  it("counts the rows a conditional UPDATE changed", async () => {
    expect(await runUpdate(s, "UPDATE counters SET v = v - ? WHERE id = ? AND v >= ?", [2, 1, 2])).toBe(1);
    expect(await runUpdate(s, "UPDATE counters SET v = v - ? WHERE id = ? AND v >= ?", [9, 1, 9])).toBe(0);
    expect(await runUpdate(s, "UPDATE counters SET v = v + 1 WHERE v >= ?", [0])).toBe(3);
    expect(await runUpdate(s, "UPDATE counters SET v = v + 1 WHERE id = ?", [42])).toBe(0);
  });

  it("counts DELETEs, and works inside a transaction", async () => {
    expect(await runUpdate(s, "DELETE FROM counters WHERE v = ?", [5])).toBe(2);
    const n = await s.transaction((t) => runUpdate(s, "UPDATE counters SET v = 1 WHERE id = ? AND v = 0", [3], t));
    expect(n).toBe(1);
  });

  it("affectedRows reads typed results and refuses a result without a count", async () => {
    const typed = await s.query("UPDATE counters SET v = v + 1 WHERE id = 1", { type: QueryTypes.UPDATE });
    expect(affectedRows(typed)).toBe(1);
    const raw = await s.query("UPDATE counters SET v = v + 1 WHERE id = 1");
    if (dialect === "mysql") expect(affectedRows(raw)).toBe(1);
    // a raw UPDATE on SQLite carries no count: a silent 0 would make every compare-and-set look lost
    else expect(() => affectedRows(raw)).toThrow(/runUpdate/);
  });
});

describe("isTransientTxError", () => {
  it("recognises a real MariaDB deadlock", async () => {
    const url = `${MYSQL}/mall_t${crypto.randomBytes(4).toString("hex")}`;
    await ensureDatabase(url);
    const s = acquireSequelize(url);
    try {
      await s.query("CREATE TABLE rows2 (id INTEGER PRIMARY KEY, v INTEGER NOT NULL) ENGINE=InnoDB");
      await s.query("INSERT INTO rows2 VALUES (1, 0), (2, 0)");
      const t1 = await s.transaction();
      const t2 = await s.transaction();
      await s.query("UPDATE rows2 SET v = 1 WHERE id = 1", { transaction: t1 });
      await s.query("UPDATE rows2 SET v = 1 WHERE id = 2", { transaction: t2 });
      // opposite order: one of the two is chosen as the deadlock victim
      const results = await Promise.allSettled([
        s.query("UPDATE rows2 SET v = 2 WHERE id = 2", { transaction: t1 }),
        s.query("UPDATE rows2 SET v = 2 WHERE id = 1", { transaction: t2 }),
      ]);
      await Promise.allSettled([t1.rollback(), t2.rollback()]);
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(failed).toHaveLength(1);
      expect(isTransientTxError(failed[0].reason)).toBe(true);
      expect(isTransientTxError(new Error("something else"))).toBe(false);
    } finally {
      await releaseSequelize(url);
      await dropDatabase(url);
    }
  });
});
