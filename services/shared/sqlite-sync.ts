/**
 * A transaction's SQLite connection on Node's built-in synchronous driver (`node:sqlite`),
 * shaped like the part of the `sqlite3` package's Database that Sequelize's SQLite dialect
 * and db.ts use (`serialize`, `run`, `all`, `exec`, `close`, `filename`, `uuid`).
 *
 * Why: the embedded shop has one writer, and a transaction holds it from BEGIN to COMMIT. With
 * `sqlite3` every statement is a trip to libuv's thread pool and back through the event loop;
 * under load the loop is busy with requests, so the writer was held for event-loop turns rather
 * than for SQLite's work (bench/RESULTS.md "Complete purchase": ≈ 50 ms of writer time per
 * purchase across ≈ 15 transactions, 1 ms per statement). Here a statement runs at once on the
 * main thread — microseconds for the single-row statements transactions are made of — and its
 * callback follows as a microtask, before the loop takes other work.
 *
 * Only transactions use it (db.ts): they run one at a time behind the process's writer lock, so
 * the busy handler never blocks the loop waiting for another connection of this process. Plain
 * queries and the catalog's read pool stay on `sqlite3`, where long reads run off the main thread.
 * Results and errors match `sqlite3`'s: rows as plain objects, `this.lastID`/`this.changes` in a
 * `run` callback, and errors with `code` `SQLITE_<PRIMARY>` and the message prefixed by it (what
 * Sequelize's error mapping reads: a UNIQUE violation stays a UniqueConstraintError).
 */
import { DatabaseSync, StatementSync } from "node:sqlite";

/** SQLite primary result codes (extended code & 0xff) → the names sqlite3 gives errors. */
const CODES: Record<number, string> = {
  1: "SQLITE_ERROR",
  2: "SQLITE_INTERNAL",
  3: "SQLITE_PERM",
  4: "SQLITE_ABORT",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  7: "SQLITE_NOMEM",
  8: "SQLITE_READONLY",
  9: "SQLITE_INTERRUPT",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  17: "SQLITE_SCHEMA",
  18: "SQLITE_TOOBIG",
  19: "SQLITE_CONSTRAINT",
  20: "SQLITE_MISMATCH",
  21: "SQLITE_MISUSE",
  25: "SQLITE_RANGE",
};

type Callback = (this: Statement, err: Error | null, rows?: unknown) => void;

/** What sqlite3 binds to `this` in a callback; Sequelize checks the constructor's name. */
class Statement {
  constructor(
    public lastID: number,
    public changes: number,
  ) {}
}

function sqliteError(err: unknown): Error {
  const e = err as Error & { errcode?: number; code?: string; errno?: number };
  if (typeof e?.errcode !== "number") return e as Error;
  const code = CODES[e.errcode & 0xff] ?? "SQLITE_ERROR";
  const out = new Error(`${code}: ${e.message}`) as Error & { code: string; errno: number };
  out.code = code;
  out.errno = e.errcode & 0xff;
  return out;
}

function bindable(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  return v;
}

/** Prepared statements kept per connection: transactions repeat the same BEGIN/COMMIT and DML shapes. */
const CACHE = 256;

export class SyncSqliteConnection {
  uuid?: string;
  readonly filename: string;
  private db: DatabaseSync;
  private statements = new Map<string, StatementSync>();

  constructor(file: string, busyTimeoutMs: number) {
    this.filename = file;
    this.db = new DatabaseSync(file, { timeout: busyTimeoutMs });
  }

  /** sqlite3: run the callback with statements queued in order — here they are in order anyway */
  serialize(fn?: () => unknown): void {
    fn?.();
  }

  run(sql: string, params?: unknown, cb?: Callback): this {
    return this.execute("run", sql, params, cb);
  }

  all(sql: string, params?: unknown, cb?: Callback): this {
    return this.execute("all", sql, params, cb);
  }

  exec(sql: string, cb?: (err: Error | null) => void): this {
    let err: Error | null = null;
    try {
      this.db.exec(sql);
    } catch (e) {
      err = sqliteError(e);
    }
    if (cb) queueMicrotask(() => cb(err));
    return this;
  }

  close(cb?: (err: Error | null) => void): void {
    let err: Error | null = null;
    try {
      this.statements.clear();
      if (this.db.isOpen) this.db.close();
    } catch (e) {
      err = sqliteError(e);
    }
    if (cb) queueMicrotask(() => cb(err));
  }

  private prepare(sql: string): StatementSync {
    let st = this.statements.get(sql);
    if (st) {
      // most recently used last
      this.statements.delete(sql);
      this.statements.set(sql, st);
      return st;
    }
    st = this.db.prepare(sql);
    this.statements.set(sql, st);
    if (this.statements.size > CACHE) this.statements.delete(this.statements.keys().next().value!);
    return st;
  }

  private execute(kind: "run" | "all", sql: string, params: unknown, cb?: Callback): this {
    if (typeof params === "function") {
      cb = params as Callback;
      params = undefined;
    }
    let err: Error | null = null;
    let rows: unknown;
    let ctx = new Statement(0, 0);
    try {
      const st = this.prepare(sql);
      const args: unknown[] = [];
      if (Array.isArray(params)) for (const p of params) args.push(bindable(p));
      else if (params && typeof params === "object") {
        const named: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(params)) named[k] = bindable(v);
        args.push(named);
      }
      if (kind === "run") {
        const r = st.run(...(args as never[]));
        ctx = new Statement(Number(r.lastInsertRowid), Number(r.changes));
      } else {
        // plain objects, as sqlite3 gives (node:sqlite's rows have no prototype)
        rows = st.all(...(args as never[])).map((r) => ({ ...r }));
      }
    } catch (e) {
      err = sqliteError(e);
    }
    if (cb) queueMicrotask(() => cb!.call(ctx, err, rows));
    return this;
  }
}
