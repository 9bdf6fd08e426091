/**
 * The embedded database's query runner (services/shared/sqlite-query.ts): a successful statement
 * formats no stack trace and a table's column types are asked of SQLite once, not before every
 * SELECT — while failures still carry the caller's stack, and DDL still refreshes the types
 * (a DATETIME column added later is read back as a Date).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DataTypes, QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize, withTransaction } from "../../services/shared/db";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-sqlite-query-"));
const url = `sqlite:${path.join(dir, "q.sqlite")}`;
let s: Sequelize;

beforeAll(async () => {
  s = acquireSequelize(url);
  await s.query("CREATE TABLE things (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, seen_at DATETIME)");
  await s.query("INSERT INTO things (name, seen_at) VALUES ('a', '2026-01-02 03:04:05.000 +00:00'), ('b', NULL)");
});
afterAll(async () => {
  await releaseSequelize(url);
  fs.rmSync(dir, { recursive: true, force: true });
});

const Thing = () =>
  s.define("things", { id: { type: DataTypes.INTEGER, primaryKey: true }, name: DataTypes.STRING, seenAt: { type: DataTypes.DATE, field: "seen_at" } }, { timestamps: false, underscored: true });

/** count calls of Error.prepareStackTrace (how V8 formats a stack) while `fn` runs */
async function stacksFormatted(fn: () => Promise<unknown>) {
  const original = Error.prepareStackTrace;
  let n = 0;
  Error.prepareStackTrace = (err, frames) => {
    n++;
    return original ? original(err, frames) : `${err}\n${frames.map((f) => `    at ${f}`).join("\n")}`;
  };
  try {
    await fn();
  } finally {
    Error.prepareStackTrace = original;
  }
  return n;
}

it("formats no stack trace for statements that succeed", async () => {
  const model = Thing();
  const n = await stacksFormatted(async () => {
    for (let i = 0; i < 10; i++) {
      await s.query("SELECT COUNT(*) AS n FROM things", { type: QueryTypes.SELECT });
      await model.findAll();
      await s.query("UPDATE things SET name = name WHERE id = 1");
    }
  });
  expect(n).toBe(0);
});

it("a failing statement still rejects with the SQL error and the caller's stack", async () => {
  async function callerFrameName() {
    return s.query("INSERT INTO things (id, name) VALUES (1, 'dup')");
  }
  const err = (await callerFrameName().catch((e: unknown) => e)) as Error & { name: string };
  expect(err.name).toBe("SequelizeUniqueConstraintError");
  expect(err.stack).toContain("sqlite-query.test.ts");
});

it("asks SQLite for a table's column types once, not before every SELECT, and maps DATETIME to Date", async () => {
  const model = Thing();
  const conn = (await (s.connectionManager as unknown as { getConnection(o: object): Promise<{ all: (...a: unknown[]) => unknown }> }).getConnection({})) as {
    all: (...a: unknown[]) => unknown;
  };
  const all = conn.all;
  let pragmas = 0;
  conn.all = function (this: unknown, ...args: unknown[]) {
    if (String(args[0]).startsWith("PRAGMA table_info")) pragmas++;
    return all.apply(this, args);
  };
  try {
    for (let i = 0; i < 20; i++) {
      const [a] = await model.findAll({ where: { id: 1 } });
      expect(a.get("seenAt")).toBeInstanceOf(Date);
      expect((a.get("seenAt") as Date).toISOString()).toBe("2026-01-02T03:04:05.000Z");
    }
    expect(pragmas).toBeLessThanOrEqual(1);
  } finally {
    conn.all = all;
  }
});

it("DDL refreshes the remembered column types", async () => {
  await Thing().findAll(); // types of `things` remembered
  await s.query("ALTER TABLE things ADD COLUMN done_at DATETIME");
  await s.query("UPDATE things SET done_at = '2026-05-06 07:08:09.000 +00:00' WHERE id = 1");
  const model = s.define(
    "things",
    { id: { type: DataTypes.INTEGER, primaryKey: true }, doneAt: { type: DataTypes.DATE, field: "done_at" } },
    { timestamps: false, underscored: true },
  );
  const [a] = await model.findAll({ where: { id: 1 } });
  expect(a.get("doneAt")).toBeInstanceOf(Date);
  expect((a.get("doneAt") as Date).toISOString()).toBe("2026-05-06T07:08:09.000Z");
});

it("a write outside a transaction waits for the writer lock instead of blocking the shared connection (no 10 s stall, no SQLITE_BUSY)", async () => {
  await s.query("CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
  await s.query("INSERT OR REPLACE INTO counters (id, n) VALUES (1, 0), (2, 0)");
  // another request's write, without a transaction (the shared connection), started once the
  // transaction below holds SQLite's write lock
  let go!: () => void;
  const outside = new Promise<void>((r) => (go = r)).then(() => s.query("UPDATE counters SET n = n + 1 WHERE id = 2"));
  const started = Date.now();
  await withTransaction(s, async (t) => {
    await s.query("UPDATE counters SET n = n + 1 WHERE id = 1", { transaction: t });
    go();
    // give the outside write time to reach SQLite: without the lock it now sits in the busy handler
    await new Promise((r) => setTimeout(r, 100));
    // the transaction's code reads through the shared connection (no `transaction`)
    const [row] = await s.query<{ n: number }>("SELECT n FROM counters WHERE id = 2", { type: QueryTypes.SELECT });
    expect(Number(row.n)).toBe(0);
  });
  await outside;
  expect(Date.now() - started).toBeLessThan(5000); // the busy timeout is 10 s: a stall shows as failure of `outside`, not only as time
  const rows = await s.query<{ id: number; n: number }>("SELECT id, n FROM counters ORDER BY id", { type: QueryTypes.SELECT });
  expect(rows.map((r) => Number(r.n))).toEqual([1, 1]);
}, 30_000);
