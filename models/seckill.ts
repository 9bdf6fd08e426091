/**
 * Sequelize models of the seckill service (tables created by migrations/0800-seckill.ts).
 * `claimed` and the statuses only change through conditional UPDATEs in services/seckill.
 */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import { Row, bigintNumber, idType } from "./helpers";

export interface SeckillEventAttrs {
  id: number;
  skuId: number;
  title: string;
  price: number;
  skuPrice: number;
  currency: string;
  quantity: number;
  perUserLimit: number;
  startAt: Date;
  endAt: Date;
  status: string;
  claimed: number;
  returnedUnits: number | null;
  skuSnapshot: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface SeckillTicketAttrs {
  id: number;
  ticket: string;
  eventId: number;
  userId: number;
  quantity: number;
  status: string;
  orderNo: string | null;
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function defineSeckillModels(sequelize: Sequelize) {
  const opts = { underscored: true, freezeTableName: true };
  const id = idType(sequelize);
  const SeckillEvent = sequelize.define<Row<SeckillEventAttrs>>(
    "SeckillEvent",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      skuId: id,
      title: DataTypes.STRING,
      price: bigintNumber("price"),
      skuPrice: bigintNumber("skuPrice"),
      currency: DataTypes.STRING,
      quantity: DataTypes.INTEGER,
      perUserLimit: DataTypes.INTEGER,
      startAt: DataTypes.DATE,
      endAt: DataTypes.DATE,
      status: DataTypes.STRING,
      claimed: DataTypes.INTEGER,
      returnedUnits: DataTypes.INTEGER,
      skuSnapshot: DataTypes.TEXT,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "seckill_events" },
  ) as ModelStatic<Row<SeckillEventAttrs>>;
  const SeckillTicket = sequelize.define<Row<SeckillTicketAttrs>>(
    "SeckillTicket",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      ticket: DataTypes.STRING,
      eventId: id,
      userId: id,
      quantity: DataTypes.INTEGER,
      status: DataTypes.STRING,
      orderNo: DataTypes.STRING,
      reason: DataTypes.STRING,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "seckill_tickets" },
  ) as ModelStatic<Row<SeckillTicketAttrs>>;
  return { SeckillEvent, SeckillTicket };
}

export type SeckillModels = ReturnType<typeof defineSeckillModels>;
