/** Shared helpers for model definitions. */
import { DataTypes, Model, Sequelize } from "sequelize";

/** A model instance typed with its attributes. */
export type Row<A extends object> = Model<A, Partial<A>> & A;

/** Integer primary keys: BIGINT on MySQL, INTEGER (rowid alias) on SQLite. */
export function idType(s: Sequelize) {
  return s.getDialect() === "sqlite" ? DataTypes.INTEGER : DataTypes.BIGINT;
}

/** BIGINT (money, counters) read back as a JS number (drivers may hand strings for BIGINT). */
export function bigintNumber(field: string) {
  return {
    type: DataTypes.BIGINT,
    get(this: Model) {
      const v = this.getDataValue(field);
      return v === null || v === undefined ? v : Number(v);
    },
  };
}

/** A TEXT column holding JSON (both dialects), (de)serialised on access. */
export function jsonColumn(field: string, fallback: unknown, allowNull = true) {
  return {
    type: DataTypes.TEXT,
    allowNull,
    get(this: Model) {
      const raw = this.getDataValue(field) as string | null;
      if (raw === null || raw === undefined) return fallback;
      try {
        return JSON.parse(raw);
      } catch {
        return fallback;
      }
    },
    set(this: Model, v: unknown) {
      this.setDataValue(field, JSON.stringify(v ?? fallback));
    },
  };
}
