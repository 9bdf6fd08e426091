/**
 * Sequelize models of the payments service (tables created by migrations/0600-payments.ts).
 * Statuses and amounts change only through the conditional UPDATEs in services/payments; the
 * models are for reads and inserts.
 */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import { Row, bigintNumber, idType } from "./helpers";

export type PaymentChannel = "sandbox" | "wallet";
export type PaymentStatus = "PENDING" | "SUCCEEDED" | "FAILED" | "CLOSED";
export type RefundStatus = "PENDING" | "SUCCEEDED" | "FAILED";

export interface PaymentAttrs {
  id: number;
  paymentNo: string;
  orderNo: string;
  activeOrderNo: string | null;
  userId: number;
  channel: PaymentChannel;
  amount: number;
  currency: string;
  status: PaymentStatus;
  providerTxnId: string | null;
  refundedAmount: number;
  failureReason: string | null;
  paidAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PaymentEventAttrs {
  id: number;
  provider: string;
  providerTxnId: string;
  nonce: string;
  paymentNo: string;
  result: string;
  amount: number;
  currency: string;
  /** APPLIED (moved the payment), REFUNDED (a success on a FAILED/CLOSED payment, refunded) or IGNORED */
  effect: "APPLIED" | "REFUNDED" | "IGNORED";
  rawBody: string;
  createdAt: Date;
}

export interface RefundAttrs {
  id: number;
  refundNo: string;
  paymentNo: string;
  orderNo: string;
  afterSalesId: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string;
  providerRef: string | null;
  failureReason: string | null;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export function definePaymentModels(sequelize: Sequelize) {
  const opts = { underscored: true, freezeTableName: true };
  const id = idType(sequelize);
  const Payment = sequelize.define<Row<PaymentAttrs>>(
    "Payment",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      paymentNo: DataTypes.STRING,
      orderNo: DataTypes.STRING,
      activeOrderNo: DataTypes.STRING,
      userId: id,
      channel: DataTypes.STRING,
      amount: bigintNumber("amount"),
      currency: DataTypes.STRING,
      status: DataTypes.STRING,
      providerTxnId: DataTypes.STRING,
      refundedAmount: bigintNumber("refundedAmount"),
      failureReason: DataTypes.STRING,
      paidAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "payments" },
  ) as ModelStatic<Row<PaymentAttrs>>;
  const PaymentEvent = sequelize.define<Row<PaymentEventAttrs>>(
    "PaymentEvent",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      provider: DataTypes.STRING,
      providerTxnId: DataTypes.STRING,
      nonce: DataTypes.STRING,
      paymentNo: DataTypes.STRING,
      result: DataTypes.STRING,
      amount: bigintNumber("amount"),
      currency: DataTypes.STRING,
      effect: DataTypes.STRING,
      rawBody: DataTypes.TEXT,
      createdAt: DataTypes.DATE,
    },
    { ...opts, tableName: "payment_events", updatedAt: false },
  ) as ModelStatic<Row<PaymentEventAttrs>>;
  const Refund = sequelize.define<Row<RefundAttrs>>(
    "Refund",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      refundNo: DataTypes.STRING,
      paymentNo: DataTypes.STRING,
      orderNo: DataTypes.STRING,
      afterSalesId: DataTypes.STRING,
      amount: bigintNumber("amount"),
      currency: DataTypes.STRING,
      status: DataTypes.STRING,
      reason: DataTypes.STRING,
      providerRef: DataTypes.STRING,
      failureReason: DataTypes.STRING,
      completedAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "refunds" },
  ) as ModelStatic<Row<RefundAttrs>>;
  return { Payment, PaymentEvent, Refund };
}
export type PaymentModels = ReturnType<typeof definePaymentModels>;
