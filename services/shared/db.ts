/**
 * One Sequelize instance per database URL per process, shared by every service on the node and
 * reference counted, so one service stopping (or hot-reloading) never closes a connection the
 * others still use.
 *
 * SQLite (embedded shape) is one process by definition; its writers are serialised through an
 * in-process mutex so concurrent transactions never hit SQLITE_BUSY. MySQL/MariaDB use real
 * row locks and conditional updates.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Options, QueryTypes, Sequelize, Transaction } from "sequelize";
import { DbSettings, dbSettings } from "./config";
import { sqliteWriterIdle, useFastSqliteQuery, withSqliteWriter } from "./sqlite-query";
import { SyncSqliteConnection } from "./sqlite-sync";
import { withChainLock } from "./chain-lock";

export type Dialect = "mysql" | "sqlite";

interface Entry {
  sequelize: Sequelize;
  refs: number;
}

const instances = new Map<string, Entry>();

export function dialectOf(url: string): Dialect {
  return url.startsWith("sqlite:") ? "sqlite" : "mysql";
}

export function sqlitePath(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/, "");
}

/** Parse `mysql://user:pass@host:port/db` into its parts. */
export function parseMysqlUrl(url: string) {
  const u = new URL(url.replace(/^mariadb:/, "mysql:"));
  return {
    host: u.hostname || "127.0.0.1",
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || "root"),
    password: decodeURIComponent(u.password || ""),
    database: u.pathname.replace(/^\//, "") || "mall",
  };
}

type Sqlite3Connection = {
  uuid?: string;
  filename?: string;
  configure(opt: "busyTimeout", v: number): void;
  run(sql: string, cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
};
type SqliteConnectionManager = {
  connections: Record<string, Sqlite3Connection>;
  getConnection(o?: { uuid?: string; type?: string }): Promise<Sqlite3Connection>;
  releaseConnection(c: Sqlite3Connection, force?: boolean): void;
  close(): Promise<void>;
};

/** Idle transaction connections kept open for the next transaction (writers queue on one mutex). */
const IDLE_SQLITE_CONNECTIONS = 4;

/**
 * Sequelize's SQLite connection manager opens its connections itself — one shared for plain
 * queries, and a NEW one for every transaction, closed when the transaction ends — and never
 * runs the `afterConnect` hook. Two changes here:
 *  - settings are applied to each connection the first time it is handed out: WAL (readers never
 *    block the writer; persistent in the file), `synchronous` (config), foreign keys, and a busy
 *    timeout for the read-only connections that share the file;
 *  - a transaction's connection goes back to a small idle list instead of being closed, and the
 *    next transaction takes it: opening a database and configuring it cost more than most
 *    transactions' statements.
 */
function configureSqliteConnections(s: Sequelize, settings: DbSettings): void {
  const cm = s.connectionManager as unknown as SqliteConnectionManager;
  const get = cm.getConnection.bind(cm);
  const release = cm.releaseConnection.bind(cm);
  const close = cm.close.bind(cm);
  const configured = new WeakSet<object>();
  const idle: Sqlite3Connection[] = [];
  const run = (db: Sqlite3Connection, sql: string) => new Promise<void>((resolve, reject) => db.run(sql, (err) => (err ? reject(err) : resolve())));
  cm.getConnection = async (o) => {
    const uuid = o?.uuid;
    if (uuid && uuid !== "default" && !cm.connections[uuid] && idle.length) {
      const reused = idle.pop()!;
      cm.connections[uuid] = reused;
      return reused;
    }
    if (uuid && uuid !== "default" && !cm.connections[uuid] && settings.sqliteSyncTransactions) {
      // a transaction: the synchronous driver (sqlite-sync.ts says why)
      const file = (s as unknown as { options: { storage?: string } }).options.storage;
      if (file && file !== ":memory:") {
        const sync = new SyncSqliteConnection(file, 10_000);
        sync.exec("PRAGMA journal_mode = WAL");
        sync.exec(`PRAGMA synchronous = ${settings.sqliteSynchronous}`);
        sync.exec("PRAGMA foreign_keys = ON");
        cm.connections[uuid] = sync as unknown as Sqlite3Connection;
        return sync as unknown as Sqlite3Connection;
      }
    }
    const db = await get(o);
    if (!configured.has(db)) {
      configured.add(db);
      db.configure("busyTimeout", 10_000);
      await run(db, "PRAGMA journal_mode = WAL");
      // WAL + NORMAL: a commit is a write to the log without an fsync; the log is synced at
      // checkpoints. A crash of the process loses nothing; a power cut or OS crash may lose
      // the last commits (never corrupts). FULL syncs every commit (SQLITE_SYNCHRONOUS).
      await run(db, `PRAGMA synchronous = ${settings.sqliteSynchronous}`);
      await run(db, "PRAGMA foreign_keys = ON");
    }
    return db;
  };
  cm.releaseConnection = (db, force) => {
    // a finished transaction's connection (Sequelize then clears its uuid): keep it for the next
    if (db.uuid && db.uuid !== "default" && db.filename !== ":memory:" && idle.length < IDLE_SQLITE_CONNECTIONS && cm.connections[db.uuid] === db) {
      delete cm.connections[db.uuid];
      idle.push(db);
      return;
    }
    release(db, force);
  };
  cm.close = async () => {
    const all = idle.splice(0);
    await Promise.all(all.map((db) => new Promise<void>((resolve) => db.close(() => resolve()))));
    await close();
  };
}

function build(url: string, settings: DbSettings): Sequelize {
  const common: Options = {
    logging: settings.sqlLog ? (sql: string) => console.log(sql) : false,
    define: { underscored: true, timestamps: true, freezeTableName: true },
  };
  if (dialectOf(url) === "sqlite") {
    const file = sqlitePath(url);
    if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const s = new Sequelize({
      ...common,
      dialect: "sqlite",
      storage: file,
      transactionType: Transaction.TYPES.IMMEDIATE,
    });
    configureSqliteConnections(s, settings);
    useFastSqliteQuery(s);
    return s;
  }
  const p = parseMysqlUrl(url);
  return new Sequelize(p.database, p.user, p.password, {
    ...common,
    dialect: "mysql",
    host: p.host,
    port: p.port,
    timezone: "+00:00",
    pool: { max: settings.poolMax, min: 0, idle: 10_000, acquire: 30_000 },
    dialectOptions: { supportBigNumbers: true, bigNumberStrings: false, dateStrings: false, charset: "utf8mb4" },
  });
}

/** Get (and reference) the shared instance for `url`. Pair every call with `releaseSequelize`. */
export function acquireSequelize(url: string): Sequelize {
  let e = instances.get(url);
  if (!e) {
    e = { sequelize: build(url, dbSettings()), refs: 0 };
    instances.set(url, e);
  }
  e.refs++;
  return e.sequelize;
}

export async function releaseSequelize(url: string): Promise<void> {
  const e = instances.get(url);
  if (!e) return;
  e.refs--;
  if (e.refs <= 0) {
    instances.delete(url);
    // SQLite: the transactions already queued on the writer mutex (a consumer's effect started
    // by a relay during shutdown) finish before the connections close under them
    await sqliteWriterIdle(e.sequelize);
    await e.sequelize.close();
  }
}

/** Create the MySQL database named in the URL if it does not exist; SQLite creates on open. */
export async function ensureDatabase(url: string): Promise<void> {
  if (dialectOf(url) === "sqlite") {
    const file = sqlitePath(url);
    if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return;
  }
  const p = parseMysqlUrl(url);
  if (!/^[A-Za-z0-9_]+$/.test(p.database)) throw new Error(`unsupported database name "${p.database}"`);
  const mysql = await import("mysql2/promise");
  const conn = await mysql.createConnection({ host: p.host, port: p.port, user: p.user, password: p.password });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${p.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  if (dialectOf(url) === "sqlite") {
    const file = sqlitePath(url);
    for (const f of [file, file + "-wal", file + "-shm"]) fs.rmSync(f, { force: true });
    return;
  }
  const p = parseMysqlUrl(url);
  if (!/^[A-Za-z0-9_]+$/.test(p.database)) throw new Error(`unsupported database name "${p.database}"`);
  const mysql = await import("mysql2/promise");
  const conn = await mysql.createConnection({ host: p.host, port: p.port, user: p.user, password: p.password });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${p.database}\``);
  } finally {
    await conn.end();
  }
}

/** Promise-chain mutexes of `withNamedLock` on SQLite, by database file and lock name. */
const localNamedLocks = new Map<string, Promise<unknown>>();


/** MySQL lock names are server-wide and at most 64 characters: scope by database, hash if long. */
function mysqlLockName(database: string, name: string): string {
  const full = `${database}:${name}`;
  return full.length <= 64 ? full : `mall:${crypto.createHash("sha1").update(full).digest("hex")}`;
}

/**
 * Run `fn` while holding a lock named `name` on the database of `url`, so work that must not
 * overlap across nodes (migrations, the bootstrap admin) runs on one node at a time and the
 * others wait their turn. MySQL/MariaDB: `GET_LOCK` on a connection of its own, held for the
 * whole run (the server frees it if the node dies). SQLite is one process: an in-process mutex.
 */
export async function withNamedLock<T>(url: string, name: string, fn: () => Promise<T>, timeoutSec = 600): Promise<T> {
  if (dialectOf(url) === "sqlite") return withChainLock(localNamedLocks, `${path.resolve(sqlitePath(url))}:${name}`, fn);
  const p = parseMysqlUrl(url);
  const key = mysqlLockName(p.database, name);
  const mysql = await import("mysql2/promise");
  const conn = await mysql.createConnection({ host: p.host, port: p.port, user: p.user, password: p.password });
  try {
    const [rows] = await conn.query("SELECT GET_LOCK(?, ?) AS got", [key, timeoutSec]);
    // 0: timed out; NULL: the server failed to take it
    if (Number((rows as { got: number | null }[])[0]?.got) !== 1) {
      throw new Error(`could not take the database lock '${key}' within ${timeoutSec} s; another node still holds it`);
    }
    try {
      return await fn();
    } finally {
      await conn.query("SELECT RELEASE_LOCK(?)", [key]).catch(() => undefined);
    }
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/**
 * Run `fn` in a transaction. On SQLite the transaction holds the database's writer lock from
 * BEGIN to COMMIT (sqlite-query.ts `withSqliteWriter`), so transactions queue in the process
 * instead of in SQLite's busy handler; on MySQL it is a normal InnoDB transaction (callers use
 * conditional updates / row locks for races).
 */
export async function withTransaction<T>(sequelize: Sequelize, fn: (t: Transaction) => Promise<T>): Promise<T> {
  if (sequelize.getDialect() !== "sqlite") {
    return sequelize.transaction((t) => fn(t));
  }
  return withSqliteWriter(sequelize, () => sequelize.transaction((t) => fn(t)));
}

/** Is this a unique-constraint violation (both dialects)? */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { name?: string; parent?: { code?: string; errno?: number } };
  return (
    e?.name === "SequelizeUniqueConstraintError" ||
    e?.parent?.code === "ER_DUP_ENTRY" ||
    e?.parent?.code === "SQLITE_CONSTRAINT"
  );
}

/**
 * Number of rows changed, read from a `sequelize.query` result. Only reliable for UPDATEs run with
 * `type: QueryTypes.UPDATE` (both dialects give `[_, count]`) or raw MySQL results: a raw
 * (untyped) UPDATE on SQLite carries no count at all, so an unreadable result is an error here
 * rather than a silent 0 (which would make every compare-and-set look lost). Prefer `runUpdate`.
 */
export function affectedRows(result: unknown): number {
  if (typeof result === "number") return result;
  if (Array.isArray(result)) {
    const [res, meta] = result as [unknown, unknown];
    if (typeof meta === "number") return meta;
    for (const m of [meta, res] as { affectedRows?: number; changes?: number }[]) {
      if (m && typeof m.affectedRows === "number") return m.affectedRows;
      if (m && typeof m.changes === "number") return m.changes;
    }
  }
  throw new Error("affectedRows: the query result carries no row count; run the statement through runUpdate()");
}

/**
 * A time to the whole second: what a MySQL DATETIME column keeps. Rows written with it read back
 * equal on both dialects, so an answer built from what was written equals a later GET.
 */
export const wholeSecond = (ms: number = Date.now()): Date => new Date(Math.floor(ms / 1000) * 1000);

/**
 * Run an UPDATE or DELETE and return how many rows it changed, on both dialects — the primitive
 * for compare-and-set (`if ((await runUpdate(...)) === 0) the race was lost`).
 * MySQL counts rows *changed* (mysql2 does not set CLIENT_FOUND_ROWS), SQLite rows *matched*:
 * write a conditional update so that every matched row really changes (a status, a counter).
 */
export async function runUpdate(sequelize: Sequelize, sql: string, replacements: unknown[], transaction?: Transaction): Promise<number> {
  const del = /^\s*delete\b/i.test(sql);
  const res = await sequelize.query(sql, { replacements, transaction, type: del ? QueryTypes.BULKDELETE : QueryTypes.UPDATE });
  return affectedRows(res);
}

/** A deadlock or lock-wait timeout (MySQL) / busy database (SQLite): the whole transaction may be retried. */
export function isTransientTxError(err: unknown): boolean {
  const e = err as { name?: string; parent?: { code?: string; errno?: number }; original?: { code?: string } };
  const code = e?.parent?.code ?? e?.original?.code;
  return (
    code === "ER_LOCK_DEADLOCK" ||
    code === "ER_LOCK_WAIT_TIMEOUT" ||
    code === "SQLITE_BUSY" ||
    e?.parent?.errno === 1213 ||
    e?.parent?.errno === 1205 ||
    e?.name === "SequelizeTimeoutError"
  );
}

/**
 * A transaction retried from the start on a deadlock or lock-wait timeout: MySQL may pick a
 * victim even with ordered locking, and the whole unit of work is safe to run again.
 */
export async function withRetriedTransaction<T>(sequelize: Sequelize, fn: (t: Transaction) => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await withTransaction(sequelize, fn);
    } catch (err) {
      if (i >= attempts || !isTransientTxError(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 20));
    }
  }
}
