/**
 * Sequelize models of the points ledger in the marketing service (tables created by
 * migrations/0710-marketing-points.ts). Balances and an order's hold status only change through
 * the conditional UPDATEs in services/marketing/points-store.ts; the models are for reads and
 * inserts.
 */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import { Row, bigintNumber, idType } from "./helpers";
import type { PointsHoldStatus, PointsKind } from "../services/marketing/points.contracts";

export interface PointsAccountAttrs {
  userId: number;
  balance: number;
  frozen: number;
  createdAt: Date;
  updatedAt: Date;
}
export interface PointsEntryAttrs {
  id: number;
  userId: number;
  kind: PointsKind;
  delta: number;
  frozenDelta: number;
  balanceAfter: number;
  reason: string;
  reference: string;
  orderNo: string | null;
  createdAt: Date;
}
export interface PointsOrderAttrs {
  orderNo: string;
  /** null on a marker left by an unfreeze that came before any freeze */
  userId: number | null;
  points: number;
  status: PointsHoldStatus;
  payable: number | null;
  earned: number;
  refundedAmount: number;
  paidAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
export interface PointsRefundAttrs {
  refundId: string;
  orderNo: string;
  userId: number;
  amount: number;
  returned: number;
  revoked: number;
  shortfall: number;
  createdAt: Date;
}

export function definePointsModels(sequelize: Sequelize) {
  const opts = { underscored: true, freezeTableName: true };
  const id = idType(sequelize);
  const PointsAccount = sequelize.define<Row<PointsAccountAttrs>>(
    "PointsAccount",
    {
      userId: { type: id, primaryKey: true },
      balance: bigintNumber("balance"),
      frozen: bigintNumber("frozen"),
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "points_accounts" },
  ) as ModelStatic<Row<PointsAccountAttrs>>;
  const PointsEntry = sequelize.define<Row<PointsEntryAttrs>>(
    "PointsEntry",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      userId: id,
      kind: DataTypes.STRING,
      delta: bigintNumber("delta"),
      frozenDelta: bigintNumber("frozenDelta"),
      balanceAfter: bigintNumber("balanceAfter"),
      reason: DataTypes.STRING,
      reference: DataTypes.STRING,
      orderNo: DataTypes.STRING,
      createdAt: DataTypes.DATE,
    },
    { ...opts, tableName: "points_ledger", updatedAt: false },
  ) as ModelStatic<Row<PointsEntryAttrs>>;
  const PointsOrder = sequelize.define<Row<PointsOrderAttrs>>(
    "PointsOrder",
    {
      orderNo: { type: DataTypes.STRING, primaryKey: true },
      userId: id,
      points: bigintNumber("points"),
      status: DataTypes.STRING,
      payable: bigintNumber("payable"),
      earned: bigintNumber("earned"),
      refundedAmount: bigintNumber("refundedAmount"),
      paidAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "points_orders" },
  ) as ModelStatic<Row<PointsOrderAttrs>>;
  const PointsRefund = sequelize.define<Row<PointsRefundAttrs>>(
    "PointsRefund",
    {
      refundId: { type: DataTypes.STRING, primaryKey: true },
      orderNo: DataTypes.STRING,
      userId: id,
      amount: bigintNumber("amount"),
      returned: bigintNumber("returned"),
      revoked: bigintNumber("revoked"),
      shortfall: bigintNumber("shortfall"),
      createdAt: DataTypes.DATE,
    },
    { ...opts, tableName: "points_refunds", updatedAt: false },
  ) as ModelStatic<Row<PointsRefundAttrs>>;
  return { PointsAccount, PointsEntry, PointsOrder, PointsRefund };
}
export type PointsModels = ReturnType<typeof definePointsModels>;
