/**
 * Marketing: coupon templates, claims under quotas and the coupons users hold (coupon-store.ts),
 * promotions and the cached list of those running (promotion-store.ts), the offers checkout
 * prices an order with and the coupon holds it takes (`offers`, `lockCoupon`, `releaseCoupon`),
 * and the coupon side of order.paid / order.cancelled (coupon-events.ts). Pure rules live in
 * domain/. Points are a mixin of their own (points.mixin.ts): it provides `pointsBalanceOf`,
 * which `offers` asks for the spendable balance.
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Sequelize, Transaction } from "sequelize";
import PointsMixin from "./points.mixin";
import { definePointsModels } from "../../models/marketing-points";
import { DbMixin } from "../../mixins/db.mixin";
import { EventEnvelope, OutboxMixin } from "../../mixins/outbox.mixin";
import { MarketingModels, defineMarketingModels } from "../../models/marketing";
import type { Meta } from "../shared/meta";
import { OrderCancelledEvent, OrderEvents, OrderPaidEvent, OrderRefundedEvent } from "../orders/orders.contracts";
import { s } from "../shared/schema";
import { onOrderCancelled, onOrderPaid } from "./coupon-events";
import { CouponStore, TemplateFields } from "./coupon-store";
import { ExpiringCoupon, ExpiringCouponsParams } from "./marketing.contracts";
import { ActivePromotionDto, ActivePromotionSchema, ClaimableTemplatePageSchema, CouponHold, CouponStatus, CouponTemplateDto, CouponTemplatePageSchema, CouponTemplateSchema, DeletedSchema, LockCouponParams, OffersParams, OffersResult, PromotionDto, PromotionPageSchema, PromotionSchema, ReleaseCouponParams, ReleaseCouponResult, UserCouponDto, UserCouponPageSchema, UserCouponSchema } from "./marketing.contracts";
import { PromotionFields, PromotionStore } from "./promotion-store";
import { created } from "../shared/created";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

export type MarketingThis = Service & {
  sequelize: Sequelize;
  models: MarketingModels;
  coupons: CouponStore;
  promotions: PromotionStore;
  once<T>(consumer: string, eventId: string, fn: (t: Transaction) => Promise<T>): Promise<{ applied: boolean; result?: T }>;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
  /** provided by the points mixin */
  pointsBalanceOf(userId: number): Promise<number>;
  pointsOnPaid(env: EventEnvelope<OrderPaidEvent>): Promise<void>;
  pointsOnCancelled(env: EventEnvelope<OrderCancelledEvent>): Promise<void>;
  pointsOnRefunded(env: EventEnvelope<OrderRefundedEvent>): Promise<void>;
};

const ADMIN = ["operator", "admin"];
/** 100 million yuan, in fen: far beyond any real coupon or threshold, far inside a BIGINT. */
const MAX_MONEY = 10_000_000_000;
const id = { type: "number", integer: true, positive: true, convert: true };
const page = {
  page: { type: "number", integer: true, min: 1, max: 10_000, default: 1, convert: true },
  pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
};
const ids = { type: "array", items: { type: "number", integer: true, positive: true }, max: 500 };
const scope = { type: "object", strict: true, optional: true, props: { categoryIds: { ...ids, optional: true }, productIds: { ...ids, optional: true } } };
const name = { type: "string", trim: true, min: 1, max: 64 };
const date = { type: "date", convert: true };
const orderNo = { type: "string", min: 1, max: 32, pattern: /^[A-Za-z0-9._:-]+$/ };

const templateFields = {
  name,
  type: { type: "enum", values: ["FIXED", "PERCENT"] },
  value: { type: "number", integer: true, min: 1, max: MAX_MONEY, description: "FIXED: fen off; PERCENT: basis points off, 1..10000 (1500 = 15 % off)" },
  threshold: { type: "number", integer: true, min: 0, max: MAX_MONEY, description: "minimum in-scope amount after promotions, fen; 0: none" },
  totalQuantity: { type: "number", integer: true, min: 1, max: 10_000_000 },
  perUserLimit: { type: "number", integer: true, min: 1, max: 1000 },
  validFrom: date,
  validTo: date,
  scope,
  enabled: { type: "boolean", optional: true },
};

const promotionFields = {
  name,
  type: { type: "enum", values: ["FULL_REDUCTION", "DISCOUNT"] },
  rules: {
    type: "array",
    min: 1,
    max: 10,
    items: {
      type: "object",
      strict: true,
      props: {
        threshold: { type: "number", integer: true, min: 0, max: MAX_MONEY },
        off: { type: "number", integer: true, min: 1, max: MAX_MONEY, optional: true },
        rateBp: { type: "number", integer: true, min: 1, max: 9999, optional: true },
      },
    },
    description: "tiers by ascending threshold: FULL_REDUCTION {threshold, off}, DISCOUNT {threshold, rateBp}",
  },
  startAt: date,
  endAt: date,
  scope,
  enabled: { type: "boolean", optional: true },
};

const optional = <T extends Record<string, object>>(rules: T) =>
  Object.fromEntries(Object.entries(rules).map(([k, v]) => [k, { ...v, optional: true }])) as T;

type TemplateParams = Omit<TemplateFields, "enabled" | "scope"> & { enabled?: boolean; scope?: TemplateFields["scope"] };
type PromotionParams = Omit<PromotionFields, "enabled" | "scope"> & { enabled?: boolean; scope?: PromotionFields["scope"] };

const MarketingService = {
  name: "marketing",
  mixins: [
    DbMixin({ service: "marketing", define: (s) => ({ ...defineMarketingModels(s), ...definePointsModels(s) }), primary: "CouponTemplate" }),
    OutboxMixin({ producer: "marketing" }),
    PointsMixin,
  ],
  settings: { rest: "/" },

  actions: {
    // ── coupon templates (admin) ─────────────────────────────────────────────────────────────

    createTemplate: {
      rest: "POST /admin/coupon-templates",
      roles: ADMIN,
      idempotent: true,
      summary: "Create a coupon template (admin)",
      openapi: { status: 201, response: CouponTemplateSchema, errors: ["COUPON_TERMS_INVALID", "OFFER_WINDOW_INVALID"] },
      params: templateFields,
      handler(this: MarketingThis, ctx: Ctx<TemplateParams>): Promise<CouponTemplateDto> {
        created(ctx, "/admin/coupon-templates");
        return this.coupons.createTemplate({ ...ctx.params, scope: ctx.params.scope ?? {}, enabled: ctx.params.enabled ?? true });
      },
    },

    listTemplates: {
      rest: "GET /admin/coupon-templates",
      roles: ADMIN,
      summary: "Coupon templates, newest first, with what was claimed (admin)",
      openapi: { response: CouponTemplatePageSchema },
      params: { enabled: { type: "boolean", optional: true, convert: true }, ...page },
      handler(this: MarketingThis, ctx: Ctx<{ enabled?: boolean; page: number; pageSize: number }>) {
        return this.coupons.listTemplates(ctx.params.page, ctx.params.pageSize, ctx.params.enabled);
      },
    },

    updateTemplate: {
      rest: "PATCH /admin/coupon-templates/:id",
      roles: ADMIN,
      summary: "Change a coupon template or disable it (admin); coupons already claimed keep their terms",
      openapi: {
        response: CouponTemplateSchema,
        errors: ["COUPON_TEMPLATE_NOT_FOUND", "COUPON_TERMS_INVALID", "OFFER_WINDOW_INVALID", "COUPON_QUANTITY_BELOW_CLAIMED", "CONFLICT"],
      },
      params: { id, ...optional(templateFields) },
      handler(this: MarketingThis, ctx: Ctx<{ id: number } & Partial<TemplateFields>>): Promise<CouponTemplateDto> {
        const { id: templateId, ...patch } = ctx.params;
        return this.coupons.updateTemplate(templateId, patch);
      },
    },

    deleteTemplate: {
      rest: "DELETE /admin/coupon-templates/:id",
      roles: ADMIN,
      summary: "Delete a coupon template nobody claimed (admin); one with claimed coupons can only be disabled",
      openapi: { response: DeletedSchema, errors: ["COUPON_TEMPLATE_NOT_FOUND", "COUPON_TEMPLATE_IN_USE"] },
      params: { id },
      handler(this: MarketingThis, ctx: Ctx<{ id: number }>) {
        return this.coupons.deleteTemplate(ctx.params.id);
      },
    },

    // ── coupons (buyers) ─────────────────────────────────────────────────────────────────────

    claimable: {
      rest: "GET /coupon-templates",
      auth: false,
      summary: "Coupons that can be claimed now, with how many are left",
      openapi: { response: ClaimableTemplatePageSchema },
      params: { ...page },
      handler(this: MarketingThis, ctx: Ctx<{ page: number; pageSize: number }>) {
        return this.coupons.claimable(ctx.params.page, ctx.params.pageSize);
      },
    },

    claim: {
      rest: "POST /coupon-templates/:id/claim",
      idempotent: true,
      summary: "Claim a coupon: never beyond the template's total or per-user limit, however many claims race",
      openapi: { status: 201, response: UserCouponSchema, errors: ["COUPON_TEMPLATE_NOT_FOUND", "COUPON_SOLD_OUT", "COUPON_LIMIT_REACHED", "COUPON_NOT_CLAIMABLE"] },
      params: { id },
      async handler(this: MarketingThis, ctx: Ctx<{ id: number }>): Promise<UserCouponDto> {
        const coupon = await this.coupons.claim(ctx.params.id, ctx.meta.user!.id);
        created(ctx, "/users/me/coupons");
        return coupon;
      },
    },

    myCoupons: {
      rest: "GET /users/me/coupons",
      summary: "My coupons, newest first (EXPIRED: unused and past validTo)",
      openapi: { response: UserCouponPageSchema },
      params: { status: { type: "enum", values: ["UNUSED", "LOCKED", "USED", "EXPIRED"], optional: true }, ...page },
      handler(this: MarketingThis, ctx: Ctx<{ status?: CouponStatus; page: number; pageSize: number }>) {
        return this.coupons.mine(ctx.meta.user!.id, ctx.params.status, ctx.params.page, ctx.params.pageSize);
      },
    },

    // ── promotions ───────────────────────────────────────────────────────────────────────────

    createPromotion: {
      rest: "POST /admin/promotions",
      roles: ADMIN,
      idempotent: true,
      summary: "Create a promotion: FULL_REDUCTION or DISCOUNT tiers, a window and a scope (admin)",
      openapi: { status: 201, response: PromotionSchema, errors: ["PROMOTION_RULES_INVALID", "OFFER_WINDOW_INVALID"] },
      params: promotionFields,
      handler(this: MarketingThis, ctx: Ctx<PromotionParams>): Promise<PromotionDto> {
        created(ctx, "/admin/promotions");
        return this.promotions.create({ ...ctx.params, scope: ctx.params.scope ?? {}, enabled: ctx.params.enabled ?? true });
      },
    },

    listPromotions: {
      rest: "GET /admin/promotions",
      roles: ADMIN,
      summary: "Every promotion, newest first (admin)",
      openapi: { response: PromotionPageSchema },
      params: { ...page },
      handler(this: MarketingThis, ctx: Ctx<{ page: number; pageSize: number }>) {
        return this.promotions.list(ctx.params.page, ctx.params.pageSize);
      },
    },

    updatePromotion: {
      rest: "PATCH /admin/promotions/:id",
      roles: ADMIN,
      summary: "Change, enable or disable a promotion (admin)",
      openapi: { response: PromotionSchema, errors: ["PROMOTION_NOT_FOUND", "PROMOTION_RULES_INVALID", "OFFER_WINDOW_INVALID", "CONFLICT"] },
      params: { id, ...optional(promotionFields) },
      handler(this: MarketingThis, ctx: Ctx<{ id: number } & Partial<PromotionFields>>): Promise<PromotionDto> {
        const { id: promotionId, ...patch } = ctx.params;
        return this.promotions.update(promotionId, patch);
      },
    },

    deletePromotion: {
      rest: "DELETE /admin/promotions/:id",
      roles: ADMIN,
      summary: "Delete a promotion (admin); orders keep the discount they were priced with",
      openapi: { response: DeletedSchema, errors: ["PROMOTION_NOT_FOUND"] },
      params: { id },
      handler(this: MarketingThis, ctx: Ctx<{ id: number }>) {
        return this.promotions.remove(ctx.params.id);
      },
    },

    activePromotions: {
      rest: "GET /promotions",
      auth: false,
      summary: "Promotions running now",
      openapi: { response: s.array(ActivePromotionSchema) },
      handler(this: MarketingThis): Promise<ActivePromotionDto[]> {
        return this.promotions.running();
      },
    },

    // ── internal: checkout's offers and coupon holds ────────────────────────────────────────

    offers: {
      visibility: "public",
      summary: "Internal: running promotions that touch these goods, the caller's coupon if named, and the spendable points",
      params: {
        userId: { type: "number", integer: true, positive: true },
        couponId: { type: "number", integer: true, positive: true, optional: true },
        orderNo: { ...orderNo, optional: true },
        productIds: ids,
        categoryIds: ids,
      },
      async handler(this: MarketingThis, ctx: Context<OffersParams>): Promise<OffersResult> {
        const { userId, couponId, orderNo: forOrder, productIds, categoryIds } = ctx.params;
        const [promotions, coupon, pointsBalance] = await Promise.all([
          this.promotions.offers(productIds, categoryIds),
          couponId ? this.coupons.offer(userId, couponId, forOrder) : null,
          this.pointsBalanceOf(userId),
        ]);
        return { promotions, coupon, pointsBalance };
      },
    },

    lockCoupon: {
      visibility: "public",
      summary: "Internal: hold the user's coupon for an order (UNUSED → LOCKED); the same order again is a no-op",
      params: { userId: { type: "number", integer: true, positive: true }, couponId: { type: "number", integer: true, positive: true }, orderNo },
      handler(this: MarketingThis, ctx: Context<LockCouponParams>): Promise<CouponHold> {
        return this.coupons.lock(ctx.params.userId, ctx.params.couponId, ctx.params.orderNo);
      },
    },

    expiringCoupons: {
      visibility: "public",
      summary: "Internal: UNUSED coupons whose validity ends before a time, paged by id (expiry reminders)",
      params: {
        before: { type: "date", convert: true },
        afterId: { type: "number", integer: true, min: 0, optional: true },
        limit: { type: "number", integer: true, min: 1, max: 1000, optional: true },
      },
      handler(this: MarketingThis, ctx: Context<Omit<ExpiringCouponsParams, "before"> & { before: Date }>): Promise<ExpiringCoupon[]> {
        return this.coupons.expiring({ ...ctx.params, before: ctx.params.before.toISOString() });
      },
    },

    releaseCoupon: {
      visibility: "public",
      summary: "Internal: give back the coupon an order holds (LOCKED → UNUSED); nothing held is a no-op",
      params: { orderNo, reason: { type: "string", min: 1, max: 255 } },
      async handler(this: MarketingThis, ctx: Context<ReleaseCouponParams>): Promise<ReleaseCouponResult> {
        const released = await this.coupons.release(ctx.params.orderNo);
        if (released) this.logger.info(`coupon of order ${ctx.params.orderNo} released: ${ctx.params.reason}`);
        return { released };
      },
    },
  },

  // One consumer per order channel, running the coupon side and then the points side; each side
  // records the event id under its own key (MarketingGroups), so a redelivery after one side
  // failed re-runs only the other. (Two groups of one channel in one service would share a
  // consumer id in @moleculer/channels.)
  channels: {
    [OrderEvents.PAID]: {
      group: "marketing",
      maxInFlight: 20,
      maxRetries: 10,
      async handler(this: MarketingThis, env: EventEnvelope<OrderPaidEvent>) {
        await onOrderPaid(this, env);
        await this.pointsOnPaid(env);
      },
    },
    [OrderEvents.CANCELLED]: {
      group: "marketing",
      maxInFlight: 20,
      maxRetries: 10,
      async handler(this: MarketingThis, env: EventEnvelope<OrderCancelledEvent>) {
        await onOrderCancelled(this, env);
        await this.pointsOnCancelled(env);
      },
    },
    [OrderEvents.REFUNDED]: {
      group: "marketing",
      maxInFlight: 20,
      maxRetries: 10,
      handler(this: MarketingThis, env: EventEnvelope<OrderRefundedEvent>) {
        return this.pointsOnRefunded(env);
      },
    },
  },

  created(this: MarketingThis) {
    // DbMixin's created() ran first (mixins before the schema), so models are bound
    this.coupons = new CouponStore({ sequelize: this.sequelize, models: this.models, outbox: (t, channel, data) => this.outbox(t, channel, data) });
    this.promotions = new PromotionStore({ sequelize: this.sequelize, models: this.models, cacher: this.broker.cacher, logger: this.logger });
  },
};

export default MarketingService as unknown as ServiceSchema;
