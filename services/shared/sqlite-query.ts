/**
 * Sequelize 6's SQLite query runner (`lib/dialects/sqlite/query.js`, `run`) does two things per
 * statement that the embedded shop paid for on every request (CPU profile of bench:purchase, see
 * bench/RESULTS.md "Complete purchase"):
 *  - it reads `new Error().stack` before every statement, for the error it might have to build:
 *    formatting a stack trace is the expensive part of an Error, and with source maps enabled
 *    (`npm start` runs through tsx) each one maps every frame — 13.6 % of the process's CPU;
 *  - before every SELECT it asks SQLite for the column types of each table named in it
 *    (`PRAGMA table_info`, one more trip through the connection's queue and the thread pool),
 *    although the schema only changes by DDL.
 * This subclass runs the same steps with the stack formatted only when a statement failed and
 * the column types remembered per table until a DDL statement runs on that Sequelize instance.
 * Everything else — parameters, logging, result handling — is the library's own code.
 * Installed by `useFastSqliteQuery` for the SQLite dialect only.
 *
 * It also puts writes made outside a transaction behind the process's writer lock
 * (`withSqliteWriter`, which transactions hold from BEGIN to COMMIT). Without it such a write
 * waited inside SQLite (busy timeout, 10 s) for a transaction's lock while holding the shared
 * connection every query without a transaction uses — and a transaction that read through that
 * connection then waited for it: both stood still until the busy timeout failed the write
 * (seen as 10 s stalls and SQLITE_BUSY from the messages service's delivery updates under
 * bench:purchase).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createRequire } from "node:module";
import type { Sequelize } from "sequelize";
import { chainLockIdle, withChainLock } from "./chain-lock";

const load = createRequire(__filename);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const SqliteQuery = load("sequelize/lib/dialects/sqlite/query") as any;
const { logger } = load("sequelize/lib/utils/logger") as { logger: { debugContext(name: string): unknown } };
const debug = logger.debugContext("sql:sqlite");

type ColumnTypes = Record<string, Record<string, string>>;
interface Sqlite3Conn {
  serialize(fn: () => unknown): void;
  all(sql: string, cb: (err: Error | null, rows: { name: string; type: string }[]) => void): void;
  [method: string]: unknown;
}

const DDL = /^\s*(CREATE|ALTER|DROP)\b/i;
const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|ALTER|DROP)\b/i;
const FROM_TABLE = /FROM `(.*?)`/i;
/** table → column → declared type, per Sequelize instance (a file's schema) */
const typeCache = new WeakMap<object, Map<string, Record<string, string>>>();

const stringifyIfBigint = (v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** One writer per database: a chain lock per Sequelize instance. */
const writerQueues = new WeakMap<object, Promise<unknown>>();
/** which lock the current async context holds; `active` ends with the holder's work (timers it left behind see it false) */
const holding = new AsyncLocalStorage<{ sequelize: object; active: boolean }>();

const holds = (sequelize: object) => {
  const h = holding.getStore();
  return !!h && h.active && h.sequelize === sequelize;
};

/**
 * Run `fn` holding the writer lock of `sequelize`'s database (SQLite allows one writer). Taken by
 * every transaction (db.ts `withTransaction`) and by each write made outside one (unless the
 * writing code already holds it: a transaction's own code writing without passing it would
 * otherwise wait on itself).
 */
export function withSqliteWriter<T>(sequelize: object, fn: () => Promise<T>): Promise<T> {
  return withChainLock(writerQueues, sequelize, async () => {
    const token = { sequelize, active: true };
    try {
      return await holding.run(token, fn);
    } finally {
      token.active = false;
    }
  });
}

/** Wait until nobody holds or waits for the writer lock (before closing the connections). */
export function sqliteWriterIdle(sequelize: object): Promise<void> {
  return chainLockIdle(writerQueues, sequelize);
}

class FastSqliteQuery extends SqliteQuery {
  declare connection: Sqlite3Conn;
  declare sequelize: object;
  declare options: { tableNames?: string[]; transaction?: unknown } | undefined;
  declare sql: string;

  run(sql: string, parameters?: unknown[] | Record<string, unknown>) {
    if (!this.options?.transaction && WRITE.test(sql) && !holds(this.sequelize)) return withSqliteWriter(this.sequelize, () => this.runStatement(sql, parameters));
    return this.runStatement(sql, parameters);
  }

  private runStatement(sql: string, parameters?: unknown[] | Record<string, unknown>) {
    const conn = this.connection;
    this.sql = sql;
    const method: string = this.getDatabaseMethod();
    const complete: () => void = this._logQuery(sql, debug, parameters);
    let cache = typeCache.get(this.sequelize);
    if (!cache) typeCache.set(this.sequelize, (cache = new Map()));
    if (DDL.test(sql)) cache.clear();
    const known = cache;
    return new Promise((resolve, reject) =>
      conn.serialize(async () => {
        const columnTypes: ColumnTypes = {};
        // captured (cheap), formatted only if the statement fails
        const errForStack = new Error();
        const executeSql = () => {
          if (sql.startsWith("-- ")) return resolve(undefined);
          // eslint-disable-next-line @typescript-eslint/no-this-alias
          const query = this;
          function afterExecute(this: unknown, executionError: Error | null, results: unknown) {
            try {
              complete();
              resolve(query._handleQueryResponse(this, columnTypes, executionError, results, executionError ? errForStack.stack : undefined));
            } catch (error) {
              reject(error);
            }
          }
          let params: unknown = parameters ?? [];
          if (Array.isArray(params)) params = params.map(stringifyIfBigint);
          else {
            const named: Record<string, unknown> = Object.create(null);
            for (const key of Object.keys(params as object)) named[`${key}`] = stringifyIfBigint((params as Record<string, unknown>)[key]);
            params = named;
          }
          (conn[method] as (sql: string, params: unknown, cb: typeof afterExecute) => void)(sql, params, afterExecute);
          return null;
        };
        if (method === "all") {
          let tableNames: string[] = [];
          if (this.options?.tableNames) tableNames = this.options.tableNames;
          else {
            const m = FROM_TABLE.exec(this.sql);
            if (m) tableNames.push(m[1]);
          }
          const missing: string[] = [];
          for (const raw of tableNames) {
            if (raw === "sqlite_master" || raw in columnTypes) continue;
            const name = raw.replace(/`/g, "");
            const types = known.get(name);
            if (types) columnTypes[name] = types;
            else missing.push(name);
          }
          await Promise.all(
            missing.map(
              (name) =>
                new Promise<void>((done) => {
                  columnTypes[name] = {};
                  conn.all(`PRAGMA table_info(\`${name}\`)`, (err, rows) => {
                    if (!err) {
                      for (const r of rows) columnTypes[name][r.name] = r.type;
                      // a table that does not exist (yet) has no columns: not remembered
                      if (rows.length) known.set(name, columnTypes[name]);
                    }
                    done();
                  });
                }),
            ),
          );
        }
        return executeSql();
      }),
    );
  }
}

/** Make `sequelize` (SQLite) run its statements through FastSqliteQuery. */
export function useFastSqliteQuery(sequelize: Sequelize): void {
  (sequelize as unknown as { dialect: { Query: unknown } }).dialect.Query = FastSqliteQuery;
}
