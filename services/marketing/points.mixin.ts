/**
 * Points (mixed into the marketing service, next to DbMixin with definePointsModels and
 * OutboxMixin): the buyer's balance and ledger, the holds checkout takes and gives back, an
 * admin grant, and the consumers of the order facts that make points final:
 *  - `order.paid`      → the order's frozen points are spent; 1 point per whole yuan paid is earned;
 *  - `order.cancelled` → the frozen points go back to the balance;
 *  - `order.refunded`  → the refund's share of the spent points comes back and the same share of
 *                        the earned points is taken back (points-store.ts, domain/points.ts).
 *
 * The marketing service has one consumer per order channel (group `marketing`) that runs the
 * coupon side and then the points side (`pointsOnPaid`, `pointsOnCancelled`, `pointsOnRefunded`).
 * Each side is applied once: its event id is recorded in `processed_events` under its own consumer
 * key (`marketing-points` here) in the same transaction as the effect, so a redelivery after one
 * side failed re-runs only the other.
 */
import crypto from "node:crypto";
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Transaction } from "sequelize";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import type { DbService } from "../../mixins/db.mixin";
import type { PointsModels } from "../../models/marketing-points";
import type { Meta } from "../shared/meta";
import { OrderCancelledEvent, OrderPaidEvent, OrderRefundedEvent } from "../orders/orders.contracts";
import { FreezePointsParams, MarketingGroups, UnfreezePointsParams } from "./marketing.contracts";
import { PointsStore } from "./points-store";
import { PointsGrantResult, PointsGrantSchema, PointsHoldResult, PointsView, PointsViewSchema } from "./points.contracts";
import { callAction } from "../shared/actions";
import { UserCalls } from "../users/users.contracts";

type Ctx<P> = Context<P, Meta>;

export type PointsThis = Service &
  DbService<PointsModels> & {
    pointsStore: PointsStore;
    once<T>(consumer: string, eventId: string, fn: (t: Transaction) => Promise<T>): Promise<{ applied: boolean; result?: T }>;
    pointsBalanceOf(userId: number): Promise<number>;
    onPointsFact<D extends { orderNo: string; userId: number }>(env: EventEnvelope<D>, effect: (t: Transaction, d: D) => Promise<void>): Promise<void>;
  };

/** Channel definition key → the order channel it consumes. */

const MAX_POINTS = 1_000_000_000;
const id = { type: "number", integer: true, positive: true, convert: true };
const points = { type: "number", integer: true, positive: true, max: MAX_POINTS };
const orderNo = { type: "string", min: 1, max: 64 };
const reason = { type: "string", min: 1, max: 255, trim: true };
const pageParams = {
  page: { type: "number", integer: true, min: 1, default: 1, convert: true },
  pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
};

const PointsMixin = {
  actions: {
    myPoints: {
      rest: "GET /users/me/points",
      openapi: { response: PointsViewSchema },
      summary: "My points balance, points held by unpaid orders, and the ledger (newest first)",
      params: pageParams,
      async handler(this: PointsThis, ctx: Ctx<{ page: number; pageSize: number }>): Promise<PointsView> {
        return this.pointsStore.view(ctx.meta.user!.id, ctx.params.page, ctx.params.pageSize);
      },
    },

    grantPoints: {
      rest: "POST /admin/users/:id/points",
      openapi: { response: PointsGrantSchema, idempotencyKey: "optional", errors: ["USER_NOT_FOUND", "POINTS_REFERENCE_CONFLICT"] },
      roles: ["admin"],
      // the key is also the ledger reference, so a grant stays single even after its record expires
      idempotent: true,
      summary: "Give a user points (admin only; Idempotency-Key makes retries safe)",
      params: { id, points, reason },
      async handler(this: PointsThis, ctx: Ctx<{ id: number; points: number; reason: string }>): Promise<PointsGrantResult> {
        await callAction(ctx, UserCalls.get, { id: ctx.params.id });
        const key = ctx.meta.idempotencyKey;
        const reference = key ? `grant:${ctx.meta.user!.id}:${key}` : `grant:${crypto.randomUUID()}`;
        return this.pointsStore.grant(ctx.params.id, ctx.params.points, ctx.params.reason, reference);
      },
    },

    freezePoints: {
      visibility: "public",
      summary: "Internal: hold points for an unpaid order (balance → frozen), once per order; INSUFFICIENT_POINTS when short",
      params: { userId: { type: "number", integer: true, positive: true }, points, orderNo },
      async handler(this: PointsThis, ctx: Context<FreezePointsParams>): Promise<PointsHoldResult> {
        return this.pointsStore.freeze(ctx.params);
      },
    },

    unfreezePoints: {
      visibility: "public",
      summary: "Internal: give an order's frozen points back (frozen → balance), once; an unknown order is a no-op",
      params: { orderNo, reason },
      async handler(this: PointsThis, ctx: Context<UnfreezePointsParams>): Promise<PointsHoldResult> {
        return this.pointsStore.unfreeze(ctx.params);
      },
    },
  },

  methods: {
    /** Spendable points of a user (frozen ones excluded), for `marketing.offers`. */
    pointsBalanceOf(this: PointsThis, userId: number): Promise<number> {
      return this.pointsStore.balanceOf(userId);
    },

    /** The points side of `order.paid`: the order's frozen points are spent, points are earned. */
    pointsOnPaid(this: PointsThis, env: EventEnvelope<OrderPaidEvent>) {
      return this.onPointsFact(env, (t, d) => this.pointsStore.paidIn(t, d));
    },
    /** The points side of `order.cancelled`: frozen points go back. */
    pointsOnCancelled(this: PointsThis, env: EventEnvelope<OrderCancelledEvent>) {
      return this.onPointsFact(env, (t, d) => this.pointsStore.cancelledIn(t, d));
    },
    /** `order.refunded`: spent points return and earned points are taken back, in the refunded share. */
    pointsOnRefunded(this: PointsThis, env: EventEnvelope<OrderRefundedEvent>) {
      return this.onPointsFact(env, (t, d) => this.pointsStore.refundedIn(t, d));
    },

    async onPointsFact<D extends { orderNo: string; userId: number }>(this: PointsThis, env: EventEnvelope<D>, effect: (t: Transaction, d: D) => Promise<void>) {
      const d = env?.data;
      if (!env?.eventId || typeof d?.orderNo !== "string" || !d.orderNo || !Number.isSafeInteger(d.userId)) {
        // retrying cannot fix a malformed message: acknowledge it, loudly
        this.logger.error(`${env?.type ?? "order event"}: malformed envelope, skipped: ${JSON.stringify(env)?.slice(0, 500)}`);
        return;
      }
      await this.once(MarketingGroups.POINTS, env.eventId, (t) => effect(t, d));
    },
  },

  created(this: PointsThis) {
    this.pointsStore = new PointsStore(this);
  },
};

export default PointsMixin as unknown as ServiceSchema;
