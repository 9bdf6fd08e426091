/**
 * Sequelize models of the inventory service (tables created by migrations/0300-inventory.ts).
 * Stock and reservation status only ever change through the conditional UPDATEs in the service;
 * the models are for reads and inserts.
 */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import { Row, idType } from "./helpers";

export interface StockAttrs {
  skuId: number;
  onHand: number;
  reserved: number;
  lowStockThreshold: number;
  createdAt: Date;
  updatedAt: Date;
}
export interface ReservationAttrs {
  id: number;
  reference: string;
  status: string;
  createdAt: Date;
  updatedAt: Date;
}
export interface ReservationLineAttrs {
  id: number;
  reservationId: number;
  skuId: number;
  quantity: number;
}
export interface StockMovementAttrs {
  id: number;
  skuId: number;
  type: string;
  onHandDelta: number;
  reservedDelta: number;
  reason: string | null;
  reference: string | null;
  createdAt: Date;
}

export function defineInventoryModels(sequelize: Sequelize) {
  const opts = { underscored: true, freezeTableName: true };
  const id = idType(sequelize);
  const Stock = sequelize.define<Row<StockAttrs>>(
    "Stock",
    {
      skuId: { type: id, primaryKey: true },
      onHand: DataTypes.INTEGER,
      reserved: DataTypes.INTEGER,
      lowStockThreshold: DataTypes.INTEGER,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "stock" },
  ) as ModelStatic<Row<StockAttrs>>;
  const Reservation = sequelize.define<Row<ReservationAttrs>>(
    "Reservation",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      reference: DataTypes.STRING,
      status: DataTypes.STRING,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "reservations" },
  ) as ModelStatic<Row<ReservationAttrs>>;
  const ReservationLine = sequelize.define<Row<ReservationLineAttrs>>(
    "ReservationLine",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      reservationId: id,
      skuId: id,
      quantity: DataTypes.INTEGER,
    },
    { ...opts, tableName: "reservation_lines", timestamps: false },
  ) as ModelStatic<Row<ReservationLineAttrs>>;
  const StockMovement = sequelize.define<Row<StockMovementAttrs>>(
    "StockMovement",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      skuId: id,
      type: DataTypes.STRING,
      onHandDelta: DataTypes.INTEGER,
      reservedDelta: DataTypes.INTEGER,
      reason: DataTypes.STRING,
      reference: DataTypes.STRING,
      createdAt: DataTypes.DATE,
    },
    { ...opts, tableName: "stock_movements", updatedAt: false },
  ) as ModelStatic<Row<StockMovementAttrs>>;
  return { Stock, Reservation, ReservationLine, StockMovement };
}
export type InventoryModels = ReturnType<typeof defineInventoryModels>;
