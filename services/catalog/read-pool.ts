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
  select<T>(sql: string, args: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export function sequelizeReader(sequelize: Sequelize): Reader {
  return {
    select: <T>(sql: string, args: unknown[]) => sequelize.query(sql, { replacements: args, type: QueryTypes.SELECT }) as unknown as Promise<T[]>,
    close: async () => undefined,
  };
}

const PRAGMAS = ["PRAGMA query_only = ON", "PRAGMA cache_size = -32768", "PRAGMA temp_store = MEMORY"];

class SqliteReadPool implements Reader {
  private conns: { db: sqlite3.Database; busy: number; ready: Promise<void> }[] = [];

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
    return { db, busy: 0, ready };
  }

  async select<T>(sql: string, args: unknown[]): Promise<T[]> {
    // the least busy connection: queries on one connection run one at a time
    const c = this.conns.reduce((a, b) => (b.busy < a.busy ? b : a));
    c.busy++;
    try {
      await c.ready;
      return await new Promise<T[]>((res, rej) => c.db.all(sql, args, (err, rows) => (err ? rej(err) : res(rows as T[]))));
    } finally {
      c.busy--;
    }
  }

  async close() {
    await Promise.all(this.conns.map((c) => new Promise<void>((res) => c.db.close(() => res()))));
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
