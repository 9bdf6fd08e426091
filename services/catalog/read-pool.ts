/**
 * Where catalog list/search reads run.
 *
 * MySQL/MariaDB: the shared Sequelize pool (many connections, real parallelism).
 * SQLite (embedded): Sequelize reads through one connection, so concurrent searches queue
 * behind each other. A few extra read-only connections on the same file let them run on
 * several cores at once; WAL mode gives each read a consistent snapshot of committed data, so a
 * read that starts after a write has committed sees it.
 */
import sqlite3 from "sqlite3";
import { QueryTypes, Sequelize } from "sequelize";
import { sqlitePath } from "../shared/db";

export interface Reader {
  /** which SQL the reads run on: plans differ where the databases' optimisers do */
  readonly dialect: "sqlite" | "mysql";
  select<T>(sql: string, args: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export function sequelizeReader(sequelize: Sequelize): Reader {
  return {
    dialect: sequelize.getDialect() === "sqlite" ? "sqlite" : "mysql",
    select: <T>(sql: string, args: unknown[]) => sequelize.query(sql, { replacements: args, type: QueryTypes.SELECT }) as unknown as Promise<T[]>,
    close: async () => undefined,
  };
}

const PRAGMAS = ["PRAGMA query_only = ON", "PRAGMA cache_size = -32768", "PRAGMA temp_store = MEMORY"];

/** Prepared statements kept per connection: a search's SQL comes in a few hundred shapes. */
const STATEMENT_CACHE = 256;

interface Conn {
  db: sqlite3.Database;
  busy: number;
  ready: Promise<void>;
  /** prepared statements by SQL text, least recently used first */
  statements: Map<string, Promise<sqlite3.Statement>>;
}

class SqliteReadPool implements Reader {
  readonly dialect = "sqlite" as const;
  private conns: Conn[] = [];

  constructor(
    private file: string,
    size: number,
  ) {
    for (let i = 0; i < size; i++) this.conns.push(this.open());
  }

  private open() {
    const db = new sqlite3.Database(this.file, sqlite3.OPEN_READONLY);
    db.configure("busyTimeout", 10_000);
    const ready = PRAGMAS.reduce<Promise<void>>((p, sql) => p.then(() => new Promise((res, rej) => db.run(sql, (err) => (err ? rej(err) : res())))), Promise.resolve());
    return { db, busy: 0, ready, statements: new Map() };
  }

  /**
   * The connection's prepared statement for `sql` (preparing costs about as much as running a
   * small search; node-sqlite3 queues the runs of one statement). A statement that fails to
   * prepare or to run is dropped, so the next call prepares it afresh.
   */
  private statement(c: Conn, sql: string): Promise<sqlite3.Statement> {
    let st = c.statements.get(sql);
    if (st) {
      c.statements.delete(sql);
    } else {
      st = new Promise<sqlite3.Statement>((res, rej) => {
        const prepared: sqlite3.Statement = c.db.prepare(sql, (err: Error | null) => (err ? rej(err) : res(prepared)));
      });
      st.catch(() => this.forget(c, sql, st!));
      if (c.statements.size >= STATEMENT_CACHE) {
        const [oldest, old] = c.statements.entries().next().value!;
        c.statements.delete(oldest);
        old.then((x) => x.finalize(), () => undefined);
      }
    }
    c.statements.set(sql, st);
    return st;
  }

  private forget(c: Conn, sql: string, st: Promise<sqlite3.Statement>) {
    if (c.statements.get(sql) === st) c.statements.delete(sql);
  }

  async select<T>(sql: string, args: unknown[]): Promise<T[]> {
    // the least busy connection: queries on one connection run one at a time
    const c = this.conns.reduce((a, b) => (b.busy < a.busy ? b : a));
    c.busy++;
    try {
      await c.ready;
      const pending = this.statement(c, sql);
      const st = await pending;
      return await new Promise<T[]>((res, rej) =>
        st.all(args, (err: Error | null, rows: unknown[]) => {
          if (!err) return res(rows as T[]);
          this.forget(c, sql, pending);
          rej(err);
        }),
      );
    } finally {
      c.busy--;
    }
  }

  async close() {
    await Promise.all(
      this.conns.map(async (c) => {
        const statements = await Promise.allSettled(c.statements.values());
        c.statements.clear();
        await Promise.all(statements.map((r) => (r.status === "fulfilled" ? new Promise<void>((res) => r.value.finalize(() => res())) : undefined)));
        await new Promise<void>((res) => c.db.close(() => res()));
      }),
    );
    this.conns = [];
  }
}

/** The reader for this database: a read pool for a SQLite file, the Sequelize pool otherwise. */
export function createReader(sequelize: Sequelize, databaseUrl: string, size: number): Reader {
  if (sequelize.getDialect() !== "sqlite" || size < 1) return sequelizeReader(sequelize);
  const file = sqlitePath(databaseUrl);
  if (file === ":memory:" || file === "") return sequelizeReader(sequelize);
  return new SqliteReadPool(file, size);
}
