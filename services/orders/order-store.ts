/**
 * Persistence of the orders service. Every status change goes through `transition`: a
 * compare-and-set `UPDATE orders SET status = :to … WHERE order_no = ? AND status = :from`, the
 * timeline row and (optionally) an outbox event, in one transaction; the affected-row count
 * decides, and a loser gets ORDER_STATE_CONFLICT.
 */
import { Op, QueryTypes, Sequelize, Transaction } from "sequelize";
import type { Row } from "../../models/helpers";
import type { OrderAttrs, OrderModels, AfterSalesAttrs } from "../../models/orders";
import { runUpdate, withRetriedTransaction } from "../shared/db";
import { bizError } from "../shared/errors";
import type { AfterSalesDto, AfterSalesStatus, AddressSnapshot, OrderDto, OrderHolds, OrderSource, OrderStatus, TimelineEntry } from "./orders.contracts";
import { Actor, OrderAction, isOrderStatus, planTransition } from "./domain/order-state";

export interface StoreDeps {
  sequelize: Sequelize;
  models: OrderModels;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
}

export interface Who {
  kind: Actor;
  /** user id for buyers and admins */
  id?: number;
  /** free text for system actors ("sweeper", "payments") */
  label?: string;
}

export const actorLabel = (w: Who) => (w.id !== undefined ? `${w.kind}:${w.id}` : w.label ? `${w.kind}:${w.label}` : w.kind);

/** Columns a transition may set besides status (fixed names, never user input). */
export type TransitionColumns = Partial<
  Record<"paid_at" | "payment_no" | "carrier" | "tracking_no" | "shipped_at" | "completed_at" | "cancelled_at" | "cancel_reason", unknown>
>;

export interface TransitionOpts {
  /** only this user's order (buyer actions): anyone else gets ORDER_NOT_FOUND */
  userId?: number;
  note?: string;
  set?: TransitionColumns;
  /** target of a move whose target is data (rejectRefund) */
  back?: OrderStatus;
  /** extra compare-and-set condition, e.g. "expires_at <= ?" */
  guard?: { sql: string; values: unknown[] };
  /** event written with the change, built from the order row */
  event?: (order: OrderRow) => [channel: string, data: unknown];
  /**
   * The order as the caller has just read it, to plan from instead of reading it again. Safe
   * because the UPDATE compares the status it planned from: if the order moved meanwhile the
   * move fails with ORDER_STATE_CONFLICT, as it would after a fresh read.
   */
  current?: OrderRow;
}

export type OrderRow = Row<OrderAttrs>;

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/** What an order holds besides its stock, as the order row records it. */
export const holdsOf = (o: Pick<OrderAttrs, "couponId" | "pointsUsed">): OrderHolds => ({
  couponId: o.couponId === null || o.couponId === undefined ? null : Number(o.couponId),
  points: Number(o.pointsUsed ?? 0),
});
export const sourceOf = (o: Pick<OrderAttrs, "source">): OrderSource => (o.source === "SECKILL" ? "SECKILL" : "NORMAL");

export class OrderStore {
  constructor(private deps: StoreDeps) {}

  get m() {
    return this.deps.models;
  }
  get sequelize() {
    return this.deps.sequelize;
  }

  outbox(t: Transaction, channel: string, data: unknown) {
    return this.deps.outbox(t, channel, data);
  }

  /** A transaction, retried from the start on a deadlock or lock-wait timeout. */
  async tx<T>(fn: (t: Transaction) => Promise<T>, attempts = 5): Promise<T> {
    return withRetriedTransaction(this.deps.sequelize, fn, attempts);
  }

  async find(orderNo: string, t?: Transaction) {
    return this.m.Order.findOne({ where: { orderNo }, transaction: t });
  }

  /** Which of `orderNos` exist. */
  async existing(orderNos: string[]): Promise<string[]> {
    if (!orderNos.length) return [];
    const rows = await this.m.Order.findAll({ attributes: ["orderNo"], where: { orderNo: orderNos }, raw: true });
    return rows.map((r) => r.orderNo);
  }

  /** The order, only if it belongs to `userId` (when given): else ORDER_NOT_FOUND. */
  async mustFind(orderNo: string, userId?: number, t?: Transaction) {
    const o = await this.find(orderNo, t);
    if (!o || (userId !== undefined && Number(o.userId) !== userId)) throw bizError("ORDER_NOT_FOUND", undefined, { orderNo });
    return o;
  }

  /** Append a timeline row. */
  async timeline(t: Transaction, orderNo: string, from: OrderStatus | null, status: OrderStatus, who: Who, note = "", at = new Date()): Promise<void> {
    await this.sequelize.query("INSERT INTO order_events (order_no, from_status, status, actor, note, created_at) VALUES (?, ?, ?, ?, ?, ?)", {
      replacements: [orderNo, from, status, actorLabel(who), note.slice(0, 255), at],
      transaction: t,
      type: QueryTypes.INSERT,
    });
  }

  /** `transition` inside the caller's transaction. Returns the order as it was and the move made. */
  async transitionIn(t: Transaction, orderNo: string, action: OrderAction, who: Who, opts: TransitionOpts = {}) {
    const order =
      opts.current && opts.current.orderNo === orderNo && (opts.userId === undefined || Number(opts.current.userId) === opts.userId)
        ? opts.current
        : await this.mustFind(orderNo, opts.userId, t);
    const from = order.status as OrderStatus;
    const plan = planTransition(action, from, who.kind, opts.back);
    if (!plan.ok) throw bizError("ORDER_STATE_CONFLICT", plan.reason, { orderNo, status: from });
    const now = new Date();
    const cols = Object.entries(opts.set ?? {});
    const setSql = ["status = ?", ...cols.map(([c]) => `${c} = ?`), "updated_at = ?"].join(", ");
    const guard = opts.guard ? ` AND ${opts.guard.sql}` : "";
    const changed = await runUpdate(
      this.sequelize,
      `UPDATE orders SET ${setSql} WHERE order_no = ? AND status = ?${guard}`,
      [plan.to, ...cols.map(([, v]) => v), now, orderNo, from, ...(opts.guard?.values ?? [])],
      t,
    );
    if (changed !== 1) throw bizError("ORDER_STATE_CONFLICT", `the order changed meanwhile (it was ${from})`, { orderNo, status: from });
    await this.timeline(t, orderNo, from, plan.to, who, opts.note);
    if (opts.event) {
      const [channel, data] = opts.event(order);
      await this.deps.outbox(t, channel, data);
    }
    return { order, from, to: plan.to };
  }

  async transition(orderNo: string, action: OrderAction, who: Who, opts: TransitionOpts = {}) {
    return this.tx((t) => this.transitionIn(t, orderNo, action, who, opts));
  }

  async lineItems(orderNo: string, t?: Transaction) {
    const lines = await this.m.OrderLine.findAll({ where: { orderNo }, order: [["id", "ASC"]], transaction: t });
    return lines.map((l) => ({ skuId: Number(l.skuId), quantity: Number(l.quantity) }));
  }

  /** Full views of orders (lines and timeline fetched in two queries for the whole page). */
  async dtos(orders: OrderRow[]): Promise<OrderDto[]> {
    if (!orders.length) return [];
    const nos = orders.map((o) => o.orderNo);
    const [lines, events] = await Promise.all([
      this.m.OrderLine.findAll({ where: { orderNo: { [Op.in]: nos } }, order: [["id", "ASC"]] }),
      this.m.OrderEvent.findAll({ where: { orderNo: { [Op.in]: nos } }, order: [["id", "ASC"]] }),
    ]);
    return orders.map((o) => {
      const address = o.addressSnapshot as unknown as AddressSnapshot;
      return {
        orderNo: o.orderNo,
        userId: Number(o.userId),
        status: o.status as OrderStatus,
        source: sourceOf(o),
        items: lines
          .filter((l) => l.orderNo === o.orderNo)
          .map((l) => ({
            skuId: Number(l.skuId),
            productId: Number(l.productId),
            skuCode: l.skuCode,
            title: l.title,
            attrs: l.attrs,
            imageUrl: l.imageUrl,
            unitPrice: l.unitPrice,
            quantity: Number(l.quantity),
            subtotal: l.subtotal,
            promotionId: l.promotionId === null ? null : Number(l.promotionId),
            promotionDiscount: l.promotionDiscount,
            couponDiscount: l.couponDiscount,
            pointsDeduction: l.pointsDeduction,
            payable: l.payable,
          })),
        address,
        itemsTotal: o.itemsTotal,
        discount: o.discount,
        pointsDeduction: o.pointsDeduction,
        shippingFee: o.shippingFee,
        payable: o.payable,
        currency: o.currency,
        couponId: o.couponId === null ? null : Number(o.couponId),
        remark: o.remark,
        expiresAt: iso(o.expiresAt)!,
        paidAt: iso(o.paidAt),
        paymentNo: o.paymentNo,
        shipment: o.shippedAt ? { carrier: o.carrier ?? "", trackingNo: o.trackingNo ?? "", shippedAt: iso(o.shippedAt)! } : null,
        completedAt: iso(o.completedAt),
        cancelledAt: iso(o.cancelledAt),
        cancelReason: o.cancelReason,
        createdAt: iso(o.createdAt)!,
        timeline: events
          .filter((e) => e.orderNo === o.orderNo)
          .map(
            (e): TimelineEntry => ({
              status: (isOrderStatus(e.status) ? e.status : "PENDING_PAYMENT") as OrderStatus,
              from: isOrderStatus(e.fromStatus) ? e.fromStatus : null,
              at: iso(e.createdAt)!,
              note: e.note,
              actor: e.actor,
            }),
          ),
      };
    });
  }

  async dto(orderNo: string, userId?: number): Promise<OrderDto> {
    return (await this.dtos([await this.mustFind(orderNo, userId)]))[0];
  }

  async page(where: Record<string, unknown>, page: number, pageSize: number) {
    const { rows, count } = await this.m.Order.findAndCountAll({ where, order: [["id", "DESC"]], limit: pageSize, offset: (page - 1) * pageSize });
    return { items: await this.dtos(rows), total: count, page, pageSize };
  }
}

export function afterSalesDto(
  a: Pick<AfterSalesAttrs, "id" | "orderNo" | "userId" | "status" | "reason" | "amount" | "currency" | "note" | "refundNo" | "createdAt" | "updatedAt">,
): AfterSalesDto {
  return {
    id: Number(a.id),
    orderNo: a.orderNo,
    userId: Number(a.userId),
    status: a.status as AfterSalesStatus,
    reason: a.reason,
    amount: Number(a.amount),
    currency: a.currency,
    // a row just created (Model.create) has no value for columns it did not set
    note: a.note ?? null,
    refundNo: a.refundNo ?? null,
    createdAt: iso(a.createdAt)!,
    updatedAt: iso(a.updatedAt)!,
  };
}
