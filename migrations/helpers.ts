/** Column helpers shared by migrations so both dialects get the right types. */
import { DataTypes, QueryInterface } from "sequelize";

/** Auto-increment primary key: BIGINT on MySQL, INTEGER (rowid alias) on SQLite. */
export function pk(qi: QueryInterface) {
  const sqlite = qi.sequelize.getDialect() === "sqlite";
  return { type: sqlite ? DataTypes.INTEGER : DataTypes.BIGINT, primaryKey: true, autoIncrement: true, allowNull: false };
}

/** A reference to another table's `pk` column (same integer width). */
export function ref(qi: QueryInterface, allowNull = false) {
  const sqlite = qi.sequelize.getDialect() === "sqlite";
  return { type: sqlite ? DataTypes.INTEGER : DataTypes.BIGINT, allowNull };
}

export function timestamps() {
  return {
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  };
}

/** Money: integer minor units. */
export function money(allowNull = false, defaultValue: number | undefined = 0) {
  return { type: DataTypes.BIGINT, allowNull, ...(defaultValue === undefined ? {} : { defaultValue }) };
}
