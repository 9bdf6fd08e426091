/**
 * Orders: checkout (an idempotent saga, checkout.ts), the status machine (domain/order-state.ts,
 * every change a compare-and-set with a timeline row, order-store.ts), expiry of unpaid orders
 * (expiry.ts), shipping and receipt, after-sales refunds (aftersales.ts), payment events
 * (payment-events.ts) and the check that lets a buyer review a line (orders.reviewable).
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Sequelize, Transaction } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { EventEnvelope, OutboxMixin } from "../../mixins/outbox.mixin";
import { OrderModels, defineOrderModels } from "../../models/orders";
import type { Meta } from "../shared/meta";
import { MallConfig, configOf } from "../shared/config";
import { s } from "../shared/schema";
import { bizError, validationError } from "../shared/errors";
import { Op } from "sequelize";
import { resolvePeriod } from "./domain/stats-period";
import { approveRefund, onRefunded, rejectRefund, requestRefund } from "./aftersales";
import { CheckoutParams, placeOrder, quote } from "./checkout";
import { createOrder } from "./create-order";
import { createSeckillOrders } from "./create-orders-batch";
import { ORDER_STATUSES } from "./domain/order-state";
import { cancelOrder, sweepOnce } from "./expiry";
import { OrderStore, afterSalesDto } from "./order-store";
import { onPaymentSucceeded } from "./payment-events";
import { StatsStore } from "./stats-store";
import { statsActions, statsChannels } from "./stats";
import {
  AfterSalesDto,
  AfterSalesPageSchema,
  AfterSalesSchema,
  BatchOrderResult,
  CreateOrderParams,
  CreateOrderResult,
  CreateSeckillOrdersParams,
  ExistingParams,
  GetForPaymentParams,
  OrderCompletedEvent,
  OrderEvents,
  OrderForPayment,
  OrderPageSchema,
  OrderSchema,
  OrderShippedEvent,
  PaymentEvents,
  PaymentRefundedEvent,
  PaymentSucceededEvent,
  QuoteDto,
  QuoteParams,
  QuoteSchema,
  ReviewableParams,
  ReviewableResult,
} from "./orders.contracts";
import { created } from "../shared/created";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

export type OrdersThis = Service & {
  cfg: MallConfig;
  models: OrderModels;
  sequelize: Sequelize;
  store: OrderStore;
  statsStore: StatsStore;
  $sweepTimer?: NodeJS.Timeout;
  $sweeping?: Promise<unknown> | null;
  $sweepStopped?: boolean;
  tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T>;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
  once<T>(consumer: string, eventId: string, fn: (t: Transaction) => Promise<T>): Promise<{ applied: boolean; result?: T }>;
  sweep(): Promise<unknown>;
  outboxMany(t: Transaction, channel: string, data: unknown[]): Promise<unknown[]>;
  $checkSeckillOrder(p: unknown): true | { field?: string; message?: string }[];
};

const orderNo = { type: "string", min: 1, max: 32, trim: true };
const pageParams = {
  page: { type: "number", integer: true, min: 1, default: 1, convert: true },
  pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
};
const statusFilter = { type: "enum", values: [...ORDER_STATUSES], optional: true };
const adminNote = { note: { type: "string", max: 255, optional: true, trim: true } };
const positiveId = { type: "number", integer: true, positive: true };
const itemsParam = {
  type: "array",
  min: 1,
  max: 100,
  items: { type: "object", strict: true, props: { skuId: positiveId, quantity: { type: "number", integer: true, min: 1, max: 99 } } },
};
/** what checkout and the quote take besides the address */
const offerParams = {
  items: { ...itemsParam, optional: true },
  couponId: { ...positiveId, optional: true },
  usePoints: { type: "number", integer: true, min: 0, max: 100_000_000, optional: true },
};
const OFFER_ERRORS = ["COUPON_NOT_FOUND", "COUPON_NOT_APPLICABLE", "COUPON_EXPIRED", "INSUFFICIENT_POINTS", "POINTS_CAP_EXCEEDED"] as const;
const money = { type: "number", integer: true, min: 0 };
const text = (max: number) => ({ type: "string", max });
const scope = { type: "object", strict: true, props: { categoryIds: { type: "array", items: positiveId, optional: true }, productIds: { type: "array", items: positiveId, optional: true } } };
const createOrderParams = {
  userId: positiveId,
  source: { type: "enum", values: ["NORMAL", "SECKILL"] },
  idempotencyKey: { type: "string", min: 1, max: 128 },
  requestHash: { type: "string", min: 1, max: 64 },
  address: {
    type: "object",
    props: { id: positiveId, name: text(64), mobile: text(32), province: text(64), city: text(64), district: text(64), detail: text(255) },
  },
  lines: {
    type: "array",
    min: 1,
    max: 100,
    items: {
      type: "object",
      strict: true,
      props: {
        skuId: positiveId,
        productId: positiveId,
        categoryId: positiveId,
        categoryPath: { type: "array", items: positiveId, optional: true },
        skuCode: text(64),
        title: text(200),
        attrs: { type: "record", key: { type: "string" }, value: { type: "string" } },
        imageUrl: { type: "string", max: 512, nullable: true },
        unitPrice: money,
        currency: { type: "string", length: 3 },
        quantity: { type: "number", integer: true, min: 1, max: 99 },
      },
    },
  },
  offers: {
    type: "object",
    optional: true,
    strict: true,
    props: {
      promotions: {
        type: "array",
        items: { type: "object", props: { id: positiveId, name: "string", type: { type: "enum", values: ["FULL_REDUCTION", "DISCOUNT"] }, rules: { type: "array", items: "object" }, scope } },
      },
      coupon: {
        type: "object",
        nullable: true,
        props: { id: positiveId, templateId: positiveId, name: "string", type: { type: "enum", values: ["FIXED", "PERCENT"] }, value: money, threshold: money, scope, validTo: "string" },
      },
      usePoints: money,
      pointsBalance: money,
    },
  },
  paymentTimeoutSec: { type: "number", integer: true, min: 1, optional: true },
  remark: { type: "string", max: 255, optional: true },
};

const OrdersService = {
  name: "orders",
  mixins: [DbMixin({ service: "orders", define: defineOrderModels, primary: "Order" }), OutboxMixin({ producer: "orders" })],
  settings: { rest: "/" },

  actions: {
    create: {
      // a checkout stampede queues at the orders node rather than piling onto inventory
      bulkhead: { enabled: true, concurrency: 32, maxQueueSize: 1000 },
      rest: "POST /orders",
      openapi: {
        status: 201,
        response: OrderSchema,
        idempotencyKey: "required",
        errors: [
          "IDEMPOTENCY_CONFLICT",
          "ORDER_REQUEST_IN_PROGRESS",
          "ADDRESS_NOT_FOUND",
          "SKU_NOT_FOUND",
          "PRODUCT_OFF_SALE",
          "CART_EMPTY",
          "OUT_OF_STOCK",
          "CURRENCY_MISMATCH",
          ...OFFER_ERRORS,
        ],
      },
      summary: "Place an order (Idempotency-Key required); without items, the selected cart lines",
      params: { addressId: { type: "number", integer: true, positive: true }, ...offerParams, remark: { type: "string", max: 255, optional: true, trim: true } },
      async handler(this: OrdersThis, ctx: Ctx<CheckoutParams>) {
        const { order, replayed } = await placeOrder(this, ctx);
        created(ctx, `/orders/${order.orderNo}`);
        if (replayed) ctx.meta.$responseHeaders = { "Idempotent-Replayed": "true" };
        return order;
      },
    },

    quote: {
      rest: "POST /cart/quote",
      openapi: { response: QuoteSchema, errors: ["SKU_NOT_FOUND", "PRODUCT_OFF_SALE", "CART_EMPTY", "CURRENCY_MISMATCH", ...OFFER_ERRORS] },
      summary: "Price the given items (or the selected cart lines) with promotions, a coupon and points, as checkout would; nothing is taken",
      params: offerParams,
      handler(this: OrdersThis, ctx: Ctx<QuoteParams>): Promise<QuoteDto> {
        return quote(ctx);
      },
    },

    createOrder: {
      visibility: "public",
      bulkhead: { enabled: true, concurrency: 32, maxQueueSize: 1000 },
      summary: "Internal: create an order from priced lines, whatever its source (the seckill writer); once per (userId, idempotencyKey)",
      params: createOrderParams,
      handler(this: OrdersThis, ctx: Context<CreateOrderParams>): Promise<CreateOrderResult> {
        return createOrder(this, ctx, ctx.params);
      },
    },

    createSeckillOrders: {
      visibility: "public",
      summary: "Internal: many flash-sale (SECKILL) orders in one transaction, each once per (userId, idempotencyKey) and answered on its own",
      // each order is checked on its own inside (one bad order must not fail its batch)
      params: { orders: { type: "array", min: 1, max: 200, items: "object" } },
      handler(this: OrdersThis, ctx: Context<CreateSeckillOrdersParams>): Promise<BatchOrderResult[]> {
        return createSeckillOrders(this, ctx.params.orders, this.$checkSeckillOrder);
      },
    },

    list: {
      rest: "GET /orders",
      openapi: { response: OrderPageSchema },
      summary: "My orders, newest first",
      params: { status: statusFilter, ...pageParams },
      async handler(this: OrdersThis, ctx: Ctx<{ status?: string; page: number; pageSize: number }>) {
        const where: Record<string, unknown> = { userId: ctx.meta.user!.id };
        if (ctx.params.status) where.status = ctx.params.status;
        return this.store.page(where, ctx.params.page, ctx.params.pageSize);
      },
    },

    get: {
      rest: "GET /orders/:orderNo",
      openapi: { response: OrderSchema, errors: ["ORDER_NOT_FOUND"] },
      summary: "One of my orders with its lines, address and timeline",
      params: { orderNo },
      async handler(this: OrdersThis, ctx: Ctx<{ orderNo: string }>) {
        return this.store.dto(ctx.params.orderNo, ctx.meta.user!.id);
      },
    },

    cancel: {
      rest: "POST /orders/:orderNo/cancel",
      openapi: { response: OrderSchema, errors: ["ORDER_NOT_FOUND", "ORDER_STATE_CONFLICT"] },
      summary: "Cancel my unpaid order (stock goes back)",
      params: { orderNo },
      async handler(this: OrdersThis, ctx: Ctx<{ orderNo: string }>) {
        const userId = ctx.meta.user!.id;
        await cancelOrder(this, ctx.params.orderNo, { action: "cancel", who: { kind: "buyer", id: userId }, reason: "cancelled by buyer", userId });
        return this.store.dto(ctx.params.orderNo, userId);
      },
    },

    confirmReceipt: {
      rest: "POST /orders/:orderNo/confirm-receipt",
      openapi: { response: OrderSchema, errors: ["ORDER_NOT_FOUND", "ORDER_STATE_CONFLICT"] },
      summary: "Confirm a shipped order arrived (SHIPPED → COMPLETED)",
      params: { orderNo },
      async handler(this: OrdersThis, ctx: Ctx<{ orderNo: string }>) {
        const userId = ctx.meta.user!.id;
        const items = await this.store.lineItems(ctx.params.orderNo);
        await this.store.transition(ctx.params.orderNo, "confirm", { kind: "buyer", id: userId }, {
          userId,
          note: "receipt confirmed",
          set: { completed_at: new Date() },
          event: (o): [string, OrderCompletedEvent] => [OrderEvents.COMPLETED, { orderNo: o.orderNo, userId, items }],
        });
        return this.store.dto(ctx.params.orderNo, userId);
      },
    },

    requestRefund: {
      rest: "POST /orders/:orderNo/refund",
      idempotent: true,
      openapi: { status: 201, response: AfterSalesSchema, errors: ["ORDER_NOT_FOUND", "ORDER_STATE_CONFLICT"] },
      summary: "Ask for a refund of a PAID or SHIPPED order",
      params: { orderNo, reason: { type: "string", min: 1, max: 255, trim: true } },
      async handler(this: OrdersThis, ctx: Ctx<{ orderNo: string; reason: string }>) {
        created(ctx, `/orders/${ctx.params.orderNo}/refunds`);
        return requestRefund(this, ctx.meta.user!.id, ctx.params.orderNo, ctx.params.reason);
      },
    },

    refunds: {
      rest: "GET /orders/:orderNo/refunds",
      openapi: { response: s.array(AfterSalesSchema), errors: ["ORDER_NOT_FOUND"] },
      summary: "Refund requests of one of my orders",
      params: { orderNo },
      async handler(this: OrdersThis, ctx: Ctx<{ orderNo: string }>): Promise<AfterSalesDto[]> {
        await this.store.mustFind(ctx.params.orderNo, ctx.meta.user!.id);
        const rows = await this.models.AfterSales.findAll({ where: { orderNo: ctx.params.orderNo }, order: [["id", "DESC"]] });
        return rows.map(afterSalesDto);
      },
    },

    adminList: {
      rest: "GET /admin/orders",
      openapi: { response: OrderPageSchema },
      roles: ["operator", "admin"],
      summary: "All orders, newest first, by status, buyer, order number or creation day (the shop's days, SHOP_TIMEZONE) (admin)",
      params: {
        status: statusFilter,
        userId: { type: "number", integer: true, positive: true, optional: true, convert: true },
        orderNo: { type: "string", min: 1, max: 32, trim: true, optional: true },
        from: { type: "string", max: 10, optional: true, trim: true },
        to: { type: "string", max: 10, optional: true, trim: true },
        ...pageParams,
      },
      async handler(this: OrdersThis, ctx: Ctx<{ status?: string; userId?: number; orderNo?: string; from?: string; to?: string; page: number; pageSize: number }>) {
        const where: Record<string | symbol, unknown> = {};
        if (ctx.params.status) where.status = ctx.params.status;
        if (ctx.params.userId) where.userId = ctx.params.userId;
        if (ctx.params.orderNo) where.orderNo = ctx.params.orderNo;
        if (ctx.params.from || ctx.params.to) {
          const r = resolvePeriod(
            { from: ctx.params.from ?? ctx.params.to, to: ctx.params.to ?? ctx.params.from },
            { defaultTz: this.cfg.shopTimezone, defaultCurrency: "CNY", defaultDays: 1, maxDays: 3660, now: Date.now() },
          );
          if ("errors" in r) throw validationError(r.errors);
          where.createdAt = { [Op.gte]: new Date(r.period.start), [Op.lt]: new Date(r.period.end) };
        }
        return this.store.page(where, ctx.params.page, ctx.params.pageSize);
      },
    },

    adminCancel: {
      rest: "POST /admin/orders/:orderNo/cancel",
      openapi: { response: OrderSchema, errors: ["ORDER_NOT_FOUND", "ORDER_STATE_CONFLICT"] },
      roles: ["operator", "admin"],
      summary: "Cancel an unpaid order for the buyer, with a reason (admin); its stock and holds go back",
      params: { orderNo, reason: { type: "string", min: 1, max: 255, trim: true } },
      async handler(this: OrdersThis, ctx: Ctx<{ orderNo: string; reason: string }>) {
        await cancelOrder(this, ctx.params.orderNo, { action: "cancel", who: { kind: "admin", id: ctx.meta.user!.id }, reason: ctx.params.reason });
        return this.store.dto(ctx.params.orderNo);
      },
    },

    adminGet: {
      rest: "GET /admin/orders/:orderNo",
      openapi: { response: OrderSchema, errors: ["ORDER_NOT_FOUND"] },
      roles: ["operator", "admin"],
      summary: "Any order (admin)",
      params: { orderNo },
      async handler(this: OrdersThis, ctx: Ctx<{ orderNo: string }>) {
        return this.store.dto(ctx.params.orderNo);
      },
    },

    ship: {
      rest: "POST /admin/orders/:orderNo/ship",
      openapi: { response: OrderSchema, errors: ["ORDER_NOT_FOUND", "ORDER_STATE_CONFLICT"] },
      roles: ["operator", "admin"],
      summary: "Ship a paid order (admin)",
      params: { orderNo, carrier: { type: "string", min: 1, max: 64, trim: true }, trackingNo: { type: "string", min: 1, max: 64, trim: true } },
      async handler(this: OrdersThis, ctx: Ctx<{ orderNo: string; carrier: string; trackingNo: string }>) {
        const { carrier, trackingNo } = ctx.params;
        await this.store.transition(ctx.params.orderNo, "ship", { kind: "admin", id: ctx.meta.user!.id }, {
          note: `shipped by ${carrier}, tracking ${trackingNo}`,
          set: { carrier, tracking_no: trackingNo, shipped_at: new Date() },
          event: (o): [string, OrderShippedEvent] => [OrderEvents.SHIPPED, { orderNo: o.orderNo, userId: Number(o.userId), carrier, trackingNo }],
        });
        return this.store.dto(ctx.params.orderNo);
      },
    },

    adminRefunds: {
      rest: "GET /admin/refunds",
      openapi: { response: AfterSalesPageSchema },
      roles: ["operator", "admin"],
      summary: "Refund requests (admin)",
      params: { status: { type: "enum", values: ["REQUESTED", "APPROVED", "REJECTED", "COMPLETED"], optional: true }, ...pageParams },
      async handler(this: OrdersThis, ctx: Ctx<{ status?: string; page: number; pageSize: number }>) {
        const { rows, count } = await this.models.AfterSales.findAndCountAll({
          where: ctx.params.status ? { status: ctx.params.status } : {},
          order: [["id", "DESC"]],
          limit: ctx.params.pageSize,
          offset: (ctx.params.page - 1) * ctx.params.pageSize,
        });
        return { items: rows.map(afterSalesDto), total: count, page: ctx.params.page, pageSize: ctx.params.pageSize };
      },
    },

    approveRefund: {
      rest: "POST /admin/refunds/:id/approve",
      openapi: { response: AfterSalesSchema, errors: ["REFUND_NOT_FOUND", "REFUND_STATE_CONFLICT", "REFUND_AMOUNT_EXCEEDED"] },
      roles: ["operator", "admin"],
      summary: "Approve a refund: money back through the payment channel, stock back if unshipped (admin)",
      params: { id: { type: "number", integer: true, positive: true, convert: true }, ...adminNote },
      async handler(this: OrdersThis, ctx: Ctx<{ id: number; note?: string }>) {
        return approveRefund(this, ctx.meta.user!.id, ctx.params.id, ctx.params.note);
      },
    },

    rejectRefund: {
      rest: "POST /admin/refunds/:id/reject",
      openapi: { response: AfterSalesSchema, errors: ["REFUND_NOT_FOUND", "REFUND_STATE_CONFLICT"] },
      roles: ["operator", "admin"],
      summary: "Reject a refund: the order returns to PAID or SHIPPED (admin)",
      params: { id: { type: "number", integer: true, positive: true, convert: true }, ...adminNote },
      async handler(this: OrdersThis, ctx: Ctx<{ id: number; note?: string }>) {
        return rejectRefund(this, ctx.meta.user!.id, ctx.params.id, ctx.params.note);
      },
    },

    getForPayment: {
      visibility: "public",
      summary: "Internal: what payments needs to open a payment",
      params: { orderNo },
      async handler(this: OrdersThis, ctx: Context<GetForPaymentParams>): Promise<OrderForPayment> {
        const o = await this.store.mustFind(ctx.params.orderNo);
        return { orderNo: o.orderNo, userId: Number(o.userId), status: o.status as OrderForPayment["status"], payable: o.payable, currency: o.currency, expiresAt: new Date(o.expiresAt).toISOString() };
      },
    },

    reviewable: {
      visibility: "public",
      summary: "Internal: the line exists on the user's own COMPLETED order",
      params: { userId: { type: "number", integer: true, positive: true }, orderNo, skuId: { type: "number", integer: true, positive: true } },
      async handler(this: OrdersThis, ctx: Context<ReviewableParams>): Promise<ReviewableResult> {
        const o = await this.store.mustFind(ctx.params.orderNo, ctx.params.userId);
        const line = await this.models.OrderLine.findOne({ where: { orderNo: o.orderNo, skuId: ctx.params.skuId } });
        if (!line) throw bizError("ORDER_LINE_NOT_FOUND", undefined, { orderNo: o.orderNo, skuId: ctx.params.skuId });
        if (o.status !== "COMPLETED") throw bizError("REVIEW_NOT_ALLOWED", `the order is ${o.status}; reviews open once it is COMPLETED`, { status: o.status });
        return { orderNo: o.orderNo, skuId: Number(line.skuId), productId: Number(line.productId), title: line.title };
      },
    },

    existing: {
      visibility: "public",
      summary: "Internal: which of these order numbers exist (inventory's orphan reconciler asks)",
      params: { orderNos: { type: "array", items: orderNo, max: 500 } },
      handler(this: OrdersThis, ctx: Context<ExistingParams>): Promise<string[]> {
        return this.store.existing(ctx.params.orderNos);
      },
    },

    ...statsActions,

    sweepExpired: {
      visibility: "public",
      summary: "Internal: run one expiry sweep on this node now",
      params: {},
      async handler(this: OrdersThis) {
        return this.sweep();
      },
    },
  },

  channels: {
    ...statsChannels,
    [PaymentEvents.SUCCEEDED]: {
      group: "orders",
      async handler(this: OrdersThis, env: EventEnvelope<PaymentSucceededEvent>) {
        await onPaymentSucceeded(this, env);
      },
    },
    [PaymentEvents.REFUNDED]: {
      group: "orders",
      async handler(this: OrdersThis, env: EventEnvelope<PaymentRefundedEvent>) {
        await onRefunded(this, env);
      },
    },
  },

  methods: {
    /** One sweep at a time per node; nodes race each other only through compare-and-set. */
    async sweep(this: OrdersThis) {
      if (this.$sweeping) return this.$sweeping;
      this.$sweeping = sweepOnce(this).finally(() => (this.$sweeping = null));
      return this.$sweeping;
    },
  },

  created(this: OrdersThis) {
    this.cfg = configOf(this);
    this.statsStore = new StatsStore(this.sequelize);
    this.store = new OrderStore({ sequelize: this.sequelize, models: this.models, outbox: (t, c, d) => this.outbox(t, c, d) });
    // one order of a createSeckillOrders batch: createOrder's params without source and offers
    const { source: _source, offers: _offers, ...seckillOrder } = createOrderParams;
    const check = (this.broker.validator as unknown as { compile(s: unknown): (p: unknown) => true | { field?: string; message?: string }[] }).compile(seckillOrder);
    this.$checkSeckillOrder = (p) => (p && typeof p === "object" ? check(p) : [{ field: "orders", message: "each order must be an object" }]);
  },

  started(this: OrdersThis) {
    this.$sweepStopped = false;
    const every = this.cfg.orderSweepIntervalMs;
    const tick = () => {
      if (this.$sweepStopped) return;
      this.sweep()
        .catch((err) => this.logger.warn("expiry sweep failed; next tick retries", (err as Error)?.message ?? err))
        .finally(() => {
          // jitter keeps many nodes from sweeping in lockstep
          if (!this.$sweepStopped) this.$sweepTimer = setTimeout(tick, every * (0.75 + Math.random() * 0.5));
        });
    };
    this.$sweepTimer = setTimeout(tick, every * Math.random());
  },

  async stopped(this: OrdersThis) {
    this.$sweepStopped = true;
    if (this.$sweepTimer) clearTimeout(this.$sweepTimer);
    if (this.$sweeping) await this.$sweeping.catch(() => undefined);
  },
};

export default OrdersService as unknown as ServiceSchema;
