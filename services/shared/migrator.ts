/**
 * Versioned schema changes with umzug. Migration files live in `migrations/` and are applied in
 * name order; the applied set is recorded in the `mall_migrations` table of each database.
 */
import fs from "node:fs";
import path from "node:path";
import { QueryInterface, Sequelize } from "sequelize";
import { SequelizeStorage, Umzug } from "umzug";
import { acquireSequelize, ensureDatabase, releaseSequelize, withNamedLock } from "./db";

export const MIGRATIONS_DIR = path.resolve(__dirname, "../../migrations");

export interface MigrationModule {
  up(args: { context: QueryInterface }): Promise<void>;
  down?(args: { context: QueryInterface }): Promise<void>;
}

function migrationFiles(dir = MIGRATIONS_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}-.+\.(ts|js)$/.test(f) && !f.endsWith(".d.ts"))
    .sort();
}

export function buildUmzug(sequelize: Sequelize, dir = MIGRATIONS_DIR, logger: Console | undefined = undefined) {
  return new Umzug<QueryInterface>({
    migrations: migrationFiles(dir).map((file) => {
      const name = file.replace(/\.(ts|js)$/, "");
      return {
        name,
        up: async ({ context }) => (require(path.join(dir, file)) as MigrationModule).up({ context }),
        down: async ({ context }) => {
          const m = require(path.join(dir, file)) as MigrationModule;
          if (m.down) await m.down({ context });
        },
      };
    }),
    context: sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize, tableName: "mall_migrations" }),
    logger: logger ?? undefined,
  });
}

/**
 * Create the database if needed and apply every pending migration. Returns applied names.
 * umzug takes no lock of its own: nodes started together would run the same migration at once
 * (and fail on a duplicate index), so the whole run holds the database's migration lock and a
 * node that waited finds nothing left to do.
 */
export async function migrate(url: string, opts: { log?: boolean } = {}): Promise<string[]> {
  await ensureDatabase(url);
  return withNamedLock(url, "migrations", async () => {
    const sequelize = acquireSequelize(url);
    try {
      const umzug = buildUmzug(sequelize, MIGRATIONS_DIR, opts.log ? console : undefined);
      const done = await umzug.up();
      return done.map((m) => m.name);
    } finally {
      await releaseSequelize(url);
    }
  });
}
