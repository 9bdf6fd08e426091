/**
 * Embedded transactions on Node's synchronous SQLite driver (services/shared/sqlite-sync.ts):
 * the same answers as sqlite3 — ids, row counts for compare-and-set, unique violations as
 * Sequelize's UniqueConstraintError with a rollback, plain-object rows — no lost update under
 * many concurrent transactions, isolation from plain reads until COMMIT, and
 * SQLITE_SYNC_TRANSACTIONS=false keeping transactions on sqlite3.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DataTypes, QueryTypes, Sequelize, Transaction } from "sequelize";
import { acquireSequelize, isUniqueViolation, releaseSequelize, runUpdate, withTransaction } from "../../services/shared/db";
import { SyncSqliteConnection } from "../../services/shared/sqlite-sync";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-sqlite-sync-"));
const url = `sqlite:${path.join(dir, "s.sqlite")}`;
let s: Sequelize;

beforeAll(async () => {
  s = acquireSequelize(url);
  await s.query("CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(20) NOT NULL UNIQUE, balance INTEGER NOT NULL CHECK (balance >= 0), active TINYINT(1) NOT NULL DEFAULT 1, created_at DATETIME)");
});
afterAll(async () => {
  await releaseSequelize(url);
  fs.rmSync(dir, { recursive: true, force: true });
});

const connectionOf = (t: Transaction) => (t as unknown as { connection: unknown }).connection;
const one = async (sql: string, replacements: unknown[] = []) => (await s.query<Record<string, unknown>>(sql, { replacements, type: QueryTypes.SELECT }))[0];

it("runs a transaction on the synchronous driver, with ids, row counts and plain rows as sqlite3 gives them", async () => {
  const Account = s.define("accounts", { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, name: DataTypes.STRING, balance: DataTypes.INTEGER, active: DataTypes.BOOLEAN, createdAt: { type: DataTypes.DATE, field: "created_at" } }, { timestamps: false });
  const out = await withTransaction(s, async (t) => {
    expect(connectionOf(t)).toBeInstanceOf(SyncSqliteConnection);
    const a = await Account.create({ name: "ann", balance: 100, active: true, createdAt: new Date("2026-01-02T03:04:05Z") }, { transaction: t });
    const b = await Account.create({ name: "bob", balance: 0, active: false }, { transaction: t });
    expect(Number(b.get("id"))).toBe(Number(a.get("id")) + 1);
    // compare-and-set: one row matched, then none
    expect(await runUpdate(s, "UPDATE accounts SET balance = balance - 60 WHERE id = ? AND balance >= 60", [a.get("id")], t)).toBe(1);
    expect(await runUpdate(s, "UPDATE accounts SET balance = balance - 60 WHERE id = ? AND balance >= 60", [a.get("id")], t)).toBe(0);
    const rows = await s.query<Record<string, unknown>>("SELECT name, balance, active FROM accounts ORDER BY id", { type: QueryTypes.SELECT, transaction: t });
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
    const found = await Account.findByPk(a.get("id") as number, { transaction: t });
    expect(found!.get("active")).toBe(true);
    expect((found!.get("createdAt") as Date).toISOString()).toBe("2026-01-02T03:04:05.000Z");
    return rows;
  });
  expect(out).toEqual([{ name: "ann", balance: 40, active: 1 }, { name: "bob", balance: 0, active: 0 }]);
});

it("a unique violation is Sequelize's UniqueConstraintError and the whole transaction rolls back", async () => {
  const err = await withTransaction(s, async (t) => {
    await s.query("UPDATE accounts SET balance = 999 WHERE name = 'ann'", { transaction: t });
    await s.query("INSERT INTO accounts (name, balance) VALUES ('ann', 1)", { transaction: t });
  }).catch((e: unknown) => e as Error & { name: string; parent?: { code?: string } });
  expect(err).toBeInstanceOf(Error);
  expect((err as { name: string }).name).toBe("SequelizeUniqueConstraintError");
  expect(isUniqueViolation(err)).toBe(true);
  expect((err as { parent?: { code?: string } }).parent?.code).toBe("SQLITE_CONSTRAINT");
  expect(Number((await one("SELECT balance FROM accounts WHERE name = 'ann'")).balance)).toBe(40);
});

it("a CHECK violation fails the statement and changes nothing", async () => {
  const err = await withTransaction(s, (t) => s.query("UPDATE accounts SET balance = -1 WHERE name = 'ann'", { transaction: t })).catch((e: unknown) => e as Error);
  // Sequelize files every SQLITE_CONSTRAINT as a UniqueConstraintError ("Validation error"), as it
  // does with sqlite3; the driver's error says which constraint
  expect(String((err as { parent?: Error }).parent?.message)).toMatch(/^SQLITE_CONSTRAINT: CHECK constraint failed/);
  expect(Number((await one("SELECT balance FROM accounts WHERE name = 'ann'")).balance)).toBe(40);
});

it("100 concurrent transactions lose no update, and a plain read does not see a transaction before its COMMIT", async () => {
  await s.query("INSERT INTO accounts (name, balance) VALUES ('counter', 0)");
  await Promise.all(
    Array.from({ length: 100 }, () =>
      withTransaction(s, async (t) => {
        const [row] = await s.query<{ balance: number }>("SELECT balance FROM accounts WHERE name = 'counter'", { type: QueryTypes.SELECT, transaction: t });
        await new Promise((r) => setImmediate(r));
        await s.query("UPDATE accounts SET balance = ? WHERE name = 'counter'", { replacements: [Number(row.balance) + 1], transaction: t });
      }),
    ),
  );
  expect(Number((await one("SELECT balance FROM accounts WHERE name = 'counter'")).balance)).toBe(100);

  let seenInside = -1;
  await withTransaction(s, async (t) => {
    await s.query("UPDATE accounts SET balance = 555 WHERE name = 'counter'", { transaction: t });
    seenInside = Number((await one("SELECT balance FROM accounts WHERE name = 'counter'")).balance); // the shared sqlite3 connection
  });
  expect(seenInside).toBe(100);
  expect(Number((await one("SELECT balance FROM accounts WHERE name = 'counter'")).balance)).toBe(555);
});

it("SQLITE_SYNC_TRANSACTIONS=false keeps transactions on sqlite3", async () => {
  const before = process.env.SQLITE_SYNC_TRANSACTIONS;
  process.env.SQLITE_SYNC_TRANSACTIONS = "false";
  const other = `sqlite:${path.join(dir, "async.sqlite")}`;
  try {
    const a = acquireSequelize(other);
    await withTransaction(a, async (t) => {
      expect(connectionOf(t)).not.toBeInstanceOf(SyncSqliteConnection);
      await a.query("CREATE TABLE x (id INTEGER PRIMARY KEY)", { transaction: t });
    });
  } finally {
    await releaseSequelize(other);
    if (before === undefined) delete process.env.SQLITE_SYNC_TRANSACTIONS;
    else process.env.SQLITE_SYNC_TRANSACTIONS = before;
  }
});
