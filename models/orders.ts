/**
 * Sequelize models of the orders service (tables created by migrations/0500-orders.ts). Status
 * changes never go through these models: they are conditional UPDATEs in services/orders.
 */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import { Row, bigintNumber, idType, jsonColumn } from "./helpers";


export interface OrderAttrs {
  id: number;
  orderNo: string;
  userId: number;
  status: string;
  source: string;
  itemsTotal: number;
  discount: number;
  pointsDeduction: number;
  pointsUsed: number;
  shippingFee: number;
  payable: number;
  currency: string;
  couponId: number | null;
  addressSnapshot: Record<string, unknown>;
  remark: string;
  expiresAt: Date;
  paidAt: Date | null;
  paymentNo: string | null;
  carrier: string | null;
  trackingNo: string | null;
  shippedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  stockReleasedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
export interface OrderLineAttrs {
  id: number;
  orderNo: string;
  skuId: number;
  productId: number;
  skuCode: string;
  title: string;
  attrs: Record<string, string>;
  imageUrl: string | null;
  unitPrice: number;
  quantity: number;
  subtotal: number;
  promotionId: number | null;
  promotionDiscount: number;
  couponDiscount: number;
  pointsDeduction: number;
  payable: number;
}
export interface OrderEventAttrs {
  id: number;
  orderNo: string;
  fromStatus: string | null;
  status: string;
  actor: string;
  note: string;
  createdAt: Date;
}
export interface AfterSalesAttrs {
  id: number;
  orderNo: string;
  userId: number;
  status: string;
  reason: string;
  amount: number;
  currency: string;
  orderStatusBefore: string;
  note: string | null;
  refundNo: string | null;
  handledBy: number | null;
  stockReturnedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
export interface IdempotencyKeyAttrs {
  userId: number;
  idemKey: string;
  requestHash: string;
  orderNo: string | null;
  createdAt: Date;
}

export function defineOrderModels(sequelize: Sequelize) {
  const opts = { underscored: true, freezeTableName: true };
  const id = idType(sequelize);
  const Order = sequelize.define<Row<OrderAttrs>>(
    "Order",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      orderNo: DataTypes.STRING,
      userId: id,
      status: DataTypes.STRING,
      source: DataTypes.STRING,
      itemsTotal: bigintNumber("itemsTotal"),
      discount: bigintNumber("discount"),
      pointsDeduction: bigintNumber("pointsDeduction"),
      pointsUsed: DataTypes.INTEGER,
      shippingFee: bigintNumber("shippingFee"),
      payable: bigintNumber("payable"),
      currency: DataTypes.STRING,
      couponId: id,
      addressSnapshot: jsonColumn("addressSnapshot", {}),
      remark: DataTypes.STRING,
      expiresAt: DataTypes.DATE,
      paidAt: DataTypes.DATE,
      paymentNo: DataTypes.STRING,
      carrier: DataTypes.STRING,
      trackingNo: DataTypes.STRING,
      shippedAt: DataTypes.DATE,
      completedAt: DataTypes.DATE,
      cancelledAt: DataTypes.DATE,
      cancelReason: DataTypes.STRING,
      stockReleasedAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "orders" },
  ) as ModelStatic<Row<OrderAttrs>>;
  const OrderLine = sequelize.define<Row<OrderLineAttrs>>(
    "OrderLine",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      orderNo: DataTypes.STRING,
      skuId: id,
      productId: id,
      skuCode: DataTypes.STRING,
      title: DataTypes.STRING,
      attrs: jsonColumn("attrs", {}),
      imageUrl: DataTypes.STRING,
      unitPrice: bigintNumber("unitPrice"),
      quantity: DataTypes.INTEGER,
      subtotal: bigintNumber("subtotal"),
      promotionId: id,
      promotionDiscount: bigintNumber("promotionDiscount"),
      couponDiscount: bigintNumber("couponDiscount"),
      pointsDeduction: bigintNumber("pointsDeduction"),
      payable: bigintNumber("payable"),
    },
    { ...opts, tableName: "order_lines", timestamps: false },
  ) as ModelStatic<Row<OrderLineAttrs>>;
  const OrderEvent = sequelize.define<Row<OrderEventAttrs>>(
    "OrderEvent",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      orderNo: DataTypes.STRING,
      fromStatus: DataTypes.STRING,
      status: DataTypes.STRING,
      actor: DataTypes.STRING,
      note: DataTypes.STRING,
      createdAt: DataTypes.DATE,
    },
    { ...opts, tableName: "order_events", updatedAt: false },
  ) as ModelStatic<Row<OrderEventAttrs>>;
  const AfterSales = sequelize.define<Row<AfterSalesAttrs>>(
    "AfterSales",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      orderNo: DataTypes.STRING,
      userId: id,
      status: DataTypes.STRING,
      reason: DataTypes.STRING,
      amount: bigintNumber("amount"),
      currency: DataTypes.STRING,
      orderStatusBefore: DataTypes.STRING,
      note: DataTypes.STRING,
      refundNo: DataTypes.STRING,
      handledBy: id,
      stockReturnedAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "aftersales" },
  ) as ModelStatic<Row<AfterSalesAttrs>>;
  const IdempotencyKey = sequelize.define<Row<IdempotencyKeyAttrs>>(
    "IdempotencyKey",
    {
      userId: { type: id, primaryKey: true },
      idemKey: { type: DataTypes.STRING, primaryKey: true },
      requestHash: DataTypes.STRING,
      orderNo: DataTypes.STRING,
      createdAt: DataTypes.DATE,
    },
    { ...opts, tableName: "idempotency_keys", updatedAt: false },
  ) as ModelStatic<Row<IdempotencyKeyAttrs>>;
  return { Order, OrderLine, OrderEvent, AfterSales, IdempotencyKey };
}
export type OrderModels = ReturnType<typeof defineOrderModels>;
