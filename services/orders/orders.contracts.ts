/**
 * What other services may call on `orders`, what it publishes, and what it consumes.
 * Callers branch on `err.type` (ORDER_NOT_FOUND, ORDER_STATE_CONFLICT, OUT_OF_STOCK, …).
 */
import { Page, s, schemaOf } from "../shared/schema";
import { ORDER_STATUSES, OrderStatus } from "./domain/order-state";
import type { AppliedCoupon, AppliedPromotion, Offers, Totals } from "./domain/pricing";
import { action } from "../shared/actions";
import { bizError } from "../shared/errors";
import type { SkuSnapshot } from "../catalog/catalog.contracts";

export type { OrderStatus };

/** Durable channels written through the outbox (payload = `data` of the event envelope). */
export const OrderEvents = {
  CREATED: "order.created",
  PAID: "order.paid",
  CANCELLED: "order.cancelled",
  SHIPPED: "order.shipped",
  COMPLETED: "order.completed",
  /** money went back to the buyer for a refund request (whole or part of the order) */
  REFUNDED: "order.refunded",
} as const;

/** After-sales decisions (durable channels through orders' outbox; messages tells the buyer). */
export const RefundEvents = {
  /** an admin approved a refund request and payments accepted the refund */
  APPROVED: "refund.approved",
  /** an admin rejected a refund request; the order went back to PAID or SHIPPED */
  REJECTED: "refund.rejected",
} as const;

/** Payload of refund.approved / refund.rejected. */
export interface RefundDecisionEvent {
  orderNo: string;
  userId: number;
  /** the after-sales request */
  refundId: number;
  /** fen asked for (approved: on its way back) */
  amount: number;
  currency: string;
  /** the admin's note, "" when none */
  note: string;
}

/** Where an order came from: the HTTP checkout or a flash sale's order writer. */
export type OrderSource = "NORMAL" | "SECKILL";

/** What an unpaid order holds besides stock (stock is always held, keyed by the order number). */
export interface OrderHolds {
  /** the user coupon locked for this order */
  couponId: number | null;
  /** points frozen for this order */
  points: number;
}

/** Channels orders consumes (published by payments), in consumer group "orders". */
export { PaymentEvents } from "../payments/payments.contracts";

export const OrderActions = {
  GET_FOR_PAYMENT: "orders.getForPayment",
  REVIEWABLE: "orders.reviewable",
  EXISTING: "orders.existing",
  /** the source-agnostic create-order command (HTTP checkout runs the same code in-process) */
  CREATE_ORDER: "orders.createOrder",
  CREATE_SECKILL_ORDERS: "orders.createSeckillOrders",
} as const;

/** Order numbers are the references of the stock reservations checkout takes. */
export { isOrderNo } from "./domain/order-no";

export interface OrderLineItem {
  skuId: number;
  quantity: number;
}

export interface OrderCreatedEvent {
  orderNo: string;
  userId: number;
  source: OrderSource;
  payable: number;
  currency: string;
  expiresAt: string;
  items: OrderLineItem[];
}
export interface OrderPaidEvent {
  orderNo: string;
  userId: number;
  paymentNo: string;
  amount: number;
  items: OrderLineItem[];
  source: OrderSource;
  /** money paid, fen (points earned are computed from it) */
  payable: number;
  /** the order's currency (messages writes the amount with it) */
  currency?: string;
  /** the holds that become final: the coupon is USED, the frozen points spent */
  holds: OrderHolds;
}
export interface OrderCancelledEvent {
  orderNo: string;
  userId: number;
  reason: string;
  source: OrderSource;
  items: OrderLineItem[];
  /** the holds to give back */
  holds: OrderHolds;
}
export interface OrderRefundedEvent {
  orderNo: string;
  userId: number;
  /** the after-sales request this refund answers */
  refundId: number;
  /** money returned now, fen */
  amount: number;
  /** what the order was paid, fen (amount / payable is the share returned) */
  payable: number;
  source: OrderSource;
  holds: OrderHolds;
  /** the order had not shipped when the refund was asked: its goods go back on hand (orders
   * returns a normal order's stock itself on approval; seckill returns a flash-sale unit on this event).
   * Absent in events written before the field existed: read as false (nothing goes back). */
  restock?: boolean;
}
export interface OrderShippedEvent {
  orderNo: string;
  userId: number;
  carrier: string;
  trackingNo: string;
}
export interface OrderCompletedEvent {
  orderNo: string;
  userId: number;
  items: OrderLineItem[];
}

/** payments → orders (event payloads) and orders → payments (payments.refund, idempotent per afterSalesId). */
export type { PaymentSucceededEvent, PaymentRefundedEvent, RefundParams, RefundResult } from "../payments/payments.contracts";
export { PaymentActions, autoRefundId } from "../payments/payments.contracts";

/** orders.getForPayment (internal). */
export interface GetForPaymentParams {
  orderNo: string;
}
export interface OrderForPayment {
  orderNo: string;
  userId: number;
  status: OrderStatus;
  payable: number;
  currency: string;
  expiresAt: string;
}

/** orders.existing (internal): which of `orderNos` exist, as a list of order numbers. */
export interface ExistingParams {
  orderNos: string[];
}

/** orders.reviewable (internal): resolves when the line is the user's and the order COMPLETED. */
export interface ReviewableParams {
  userId: number;
  orderNo: string;
  skuId: number;
}
export interface ReviewableResult {
  orderNo: string;
  skuId: number;
  productId: number;
  title: string;
}

export interface AddressSnapshot {
  id: number;
  name: string;
  mobile: string;
  province: string;
  city: string;
  district: string;
  detail: string;
}

/** A line's shares of the order's discounts (largest-remainder split; they add up to the order's). */
export interface LineShares {
  promotionId: number | null;
  promotionDiscount: number;
  couponDiscount: number;
  pointsDeduction: number;
  /** subtotal − the three shares: what this line costs the buyer (shipping excluded) */
  payable: number;
}

export interface OrderItemDto extends LineShares {
  skuId: number;
  productId: number;
  skuCode: string;
  title: string;
  attrs: Record<string, string>;
  imageUrl: string | null;
  unitPrice: number;
  quantity: number;
  subtotal: number;
}

/**
 * orders.createOrder (internal): the one way an order comes into being, whatever its source.
 * Lines come with their catalog snapshot and unit price (a flash sale's price for SECKILL); the
 * command prices them with `offers` (none: no promotion, coupon or points), takes the holds
 * (stock, then the coupon and the frozen points the offers use) in one saga keyed by the order
 * number, and writes the order; a failure gives back what was taken, in reverse. The same
 * (userId, idempotencyKey) returns the same order; the same key with another requestHash is
 * IDEMPOTENCY_CONFLICT.
 */
export interface CreateOrderLine {
  skuId: number;
  productId: number;
  categoryId: number;
  /** the category and its ancestors (offer scopes); default [categoryId] */
  categoryPath?: number[];
  skuCode: string;
  title: string;
  attrs: Record<string, string>;
  imageUrl: string | null;
  unitPrice: number;
  currency: string;
  quantity: number;
}

/** What an order line keeps of its SKU, before its price and quantity. */
export type OrderLineSnapshot = Omit<CreateOrderLine, "unitPrice" | "quantity">;

/**
 * The order-line snapshot of a SKU from `catalog.getSkus`, which must exist and be on sale now
 * (checkout's lines, a flash sale's SKU): SKU_NOT_FOUND / PRODUCT_OFF_SALE otherwise.
 */
export function sellableSnapshot(sku: SkuSnapshot | undefined, skuId: number): OrderLineSnapshot {
  if (!sku) throw bizError("SKU_NOT_FOUND", `SKU ${skuId} does not exist`, { skuId });
  if (sku.status !== "ON_SALE") throw bizError("PRODUCT_OFF_SALE", `SKU ${skuId} is not on sale`, { skuId });
  return {
    skuId: sku.skuId,
    productId: sku.productId,
    categoryId: sku.categoryId,
    categoryPath: sku.categoryPath,
    skuCode: sku.skuCode,
    title: sku.title,
    attrs: sku.attrs ?? {},
    imageUrl: sku.imageUrl ?? null,
    currency: sku.currency,
  };
}
export interface CreateOrderParams {
  userId: number;
  source: OrderSource;
  idempotencyKey: string;
  /** what the key stands for (e.g. a hash of the request body, or of the seckill ticket) */
  requestHash: string;
  address: AddressSnapshot;
  lines: CreateOrderLine[];
  offers?: Offers;
  /** seconds the buyer has to pay; default by source: ORDER_PAYMENT_TIMEOUT or SECKILL_PAYMENT_TIMEOUT */
  paymentTimeoutSec?: number;
  remark?: string;
}
export interface CreateOrderResult {
  order: OrderDto;
  /** an earlier request with the key made it */
  replayed: boolean;
}

/**
 * orders.createSeckillOrders (internal): many SECKILL orders in one transaction (the seckill
 * writer's batch). Each item is a createOrder command without source and offers; each answers on
 * its own, in order: the order number (`replayed` when its key was done before), or the error that
 * order alone met (`retryable` ones may succeed on a later call).
 */
export type SeckillOrderParams = Omit<CreateOrderParams, "source" | "offers">;
export interface CreateSeckillOrdersParams {
  orders: SeckillOrderParams[];
}
export type BatchOrderResult =
  | { orderNo: string; replayed: boolean; error?: undefined }
  | { error: { type: string; message: string; code: number; retryable: boolean; data?: unknown }; orderNo?: undefined; replayed?: undefined };

/** POST /cart/quote: the totals an order of these lines would get, without creating it. */
export interface QuoteParams {
  items?: OrderLineItem[];
  couponId?: number;
  usePoints?: number;
}
export interface QuoteLineDto extends LineShares {
  skuId: number;
  productId: number;
  title: string;
  unitPrice: number;
  quantity: number;
  subtotal: number;
}
export interface QuoteDto {
  lines: QuoteLineDto[];
  totals: Totals;
  promotions: AppliedPromotion[];
  coupon?: AppliedCoupon;
}

export interface TimelineEntry {
  status: OrderStatus;
  from: OrderStatus | null;
  at: string;
  note: string;
  actor: string;
}

export interface OrderDto {
  orderNo: string;
  userId: number;
  status: OrderStatus;
  source: "NORMAL" | "SECKILL";
  items: OrderItemDto[];
  address: AddressSnapshot;
  itemsTotal: number;
  discount: number;
  pointsDeduction: number;
  shippingFee: number;
  payable: number;
  currency: string;
  couponId: number | null;
  remark: string;
  expiresAt: string;
  paidAt: string | null;
  paymentNo: string | null;
  shipment: { carrier: string; trackingNo: string; shippedAt: string } | null;
  completedAt: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
  createdAt: string;
  timeline: TimelineEntry[];
}

export type AfterSalesStatus = "REQUESTED" | "APPROVED" | "REJECTED" | "COMPLETED";

export interface AfterSalesDto {
  id: number;
  orderNo: string;
  userId: number;
  status: AfterSalesStatus;
  reason: string;
  amount: number;
  currency: string;
  note: string | null;
  refundNo: string | null;
  createdAt: string;
  updatedAt: string;
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

const orderStatus = s.enum(ORDER_STATUSES);
const lineShares = {
  promotionId: s.nullable(s.integer()),
  promotionDiscount: s.money(),
  couponDiscount: s.money(),
  pointsDeduction: s.money(),
  payable: s.money(),
};
const totals = s.named(
  "PriceTotals",
  s.object({ itemsTotal: s.money(), discount: s.money(), pointsDeduction: s.money(), shippingFee: s.money(), payable: s.money(), currency: s.string() }),
);

export const OrderSchema = schemaOf<OrderDto>()(
  s.named(
    "Order",
    s.object({
      orderNo: s.string(),
      userId: s.integer(),
      status: orderStatus,
      source: s.enum(["NORMAL", "SECKILL"]),
      items: s.array(
        s.named(
          "OrderItem",
          s.object({
            skuId: s.integer(),
            productId: s.integer(),
            skuCode: s.string(),
            title: s.string(),
            attrs: s.record(s.string()),
            imageUrl: s.nullable(s.string()),
            unitPrice: s.money(),
            quantity: s.integer({ minimum: 1 }),
            subtotal: s.money(),
            ...lineShares,
          }),
        ),
      ),
      address: s.named(
        "AddressSnapshot",
        s.object({
          id: s.integer(),
          name: s.string(),
          mobile: s.string(),
          province: s.string(),
          city: s.string(),
          district: s.string(),
          detail: s.string(),
        }),
      ),
      itemsTotal: s.money(),
      discount: s.money(),
      pointsDeduction: s.money(),
      shippingFee: s.money(),
      payable: s.money(),
      currency: s.string(),
      couponId: s.nullable(s.integer()),
      remark: s.string(),
      expiresAt: s.dateTime(),
      paidAt: s.nullable(s.dateTime()),
      paymentNo: s.nullable(s.string()),
      shipment: s.nullable(s.object({ carrier: s.string(), trackingNo: s.string(), shippedAt: s.dateTime() })),
      completedAt: s.nullable(s.dateTime()),
      cancelledAt: s.nullable(s.dateTime()),
      cancelReason: s.nullable(s.string()),
      createdAt: s.dateTime(),
      timeline: s.array(
        s.named(
          "TimelineEntry",
          s.object({ status: orderStatus, from: s.nullable(orderStatus), at: s.dateTime(), note: s.string(), actor: s.string() }),
        ),
      ),
    }),
  ),
);
export const OrderPageSchema = schemaOf<Page<OrderDto>>()(s.page(OrderSchema));

export const AfterSalesSchema = schemaOf<AfterSalesDto>()(
  s.named(
    "AfterSales",
    s.object({
      id: s.integer({ minimum: 1 }),
      orderNo: s.string(),
      userId: s.integer(),
      status: s.enum(["REQUESTED", "APPROVED", "REJECTED", "COMPLETED"]),
      reason: s.string(),
      amount: s.money(),
      currency: s.string(),
      note: s.nullable(s.string()),
      refundNo: s.nullable(s.string()),
      createdAt: s.dateTime(),
      updatedAt: s.dateTime(),
    }),
  ),
);
export const AfterSalesPageSchema = schemaOf<Page<AfterSalesDto>>()(s.page(AfterSalesSchema));

export const QuoteSchema = schemaOf<QuoteDto>()(
  s.named(
    "Quote",
    s.object(
      {
        lines: s.array(
          s.named(
            "QuoteLine",
            s.object({ skuId: s.integer(), productId: s.integer(), title: s.string(), unitPrice: s.money(), quantity: s.integer({ minimum: 1 }), subtotal: s.money(), ...lineShares }),
          ),
        ),
        totals,
        promotions: s.array(
          s.named(
            "AppliedPromotion",
            s.object({ id: s.integer(), name: s.string(), type: s.enum(["FULL_REDUCTION", "DISCOUNT"]), discount: s.money(), skuIds: s.array(s.integer()) }),
          ),
        ),
      },
      {
        coupon: s.named(
          "AppliedCoupon",
          s.object({ id: s.integer(), templateId: s.integer(), name: s.string(), type: s.enum(["FIXED", "PERCENT"]), value: s.integer(), discount: s.money() }),
        ),
      },
    ),
  ),
);

/** Typed descriptors of orders' internal actions (services/shared/actions.ts). */
export const OrderCalls = {
  getForPayment: action<GetForPaymentParams, OrderForPayment>(OrderActions.GET_FOR_PAYMENT),
  reviewable: action<ReviewableParams, ReviewableResult>(OrderActions.REVIEWABLE),
  existing: action<ExistingParams, string[]>(OrderActions.EXISTING),
  createOrder: action<CreateOrderParams, CreateOrderResult>(OrderActions.CREATE_ORDER),
  createSeckillOrders: action<CreateSeckillOrdersParams, BatchOrderResult[]>(OrderActions.CREATE_SECKILL_ORDERS),
} as const;
