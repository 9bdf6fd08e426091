/**
 * Messages: templates (template-store.ts, shipped defaults in domain/defaults.ts, rendering in
 * domain/render.ts), the delivery log and the senders (delivery.ts, transports.ts), the inbox
 * (inbox.ts), event notifications (notifications.ts), batch sends (batches.ts) and the users'
 * notification settings. This file is the schema: params, auth, routes and channels.
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Sequelize, Transaction } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { EventEnvelope, OutboxMixin } from "../../mixins/outbox.mixin";
import { MessagesModels, defineMessagesModels } from "../../models/messages";
import { InventoryEvents, InventoryLowEvent } from "../inventory/inventory.contracts";
import { CouponClaimedEvent, CouponEvents } from "../marketing/marketing.contracts";
import { OrderCancelledEvent, OrderEvents, OrderPaidEvent, OrderShippedEvent, RefundDecisionEvent, RefundEvents } from "../orders/orders.contracts";
import { PaymentEvents, PaymentRefundedEvent } from "../payments/payments.contracts";
import { MallConfig, configOf } from "../shared/config";
import { acquireKv, KvStore, releaseKv } from "../shared/kv";
import type { Meta } from "../shared/meta";
import type { Page } from "../shared/schema";
import { BatchParams, MAX_BATCH_USER_IDS, batchView, checkVars, checkVarsSize, createBatch, onBatchChunk } from "./batches";
import { Deliverer } from "./delivery";
import { DEFAULT_LOCALE } from "./domain/defaults";
import { MissingVariableError, Vars } from "./domain/render";
import { InboxStore } from "./inbox";
import {
  BatchChunk,
  BatchCreatedDto,
  BatchCreatedSchema,
  BatchDto,
  BatchSchema,
  Category,
  Channel,
  DeletedSchema,
  DeliveryDetailDto,
  DeliveryDetailSchema,
  DeliveryDto,
  DeliveryPageSchema,
  DeliveryStatus,
  InboxMessageDto,
  InboxMessageSchema,
  InboxPage,
  InboxPageSchema,
  Locale,
  MessageChannels,
  NotificationSettingsDto,
  PreviewDto,
  PreviewSchema,
  ReadAllSchema,
  SECKILL_TICKET,
  SeckillTicketEvent,
  SettingsSchema,
  TemplateDto,
  TemplatePageSchema,
  TemplateSchema,
  UnreadSchema,
} from "./messages.contracts";
import { NotifyHost, notices, onCouponClaimed, onInventoryLow, onOrderEvent, onPaymentRefunded, onSeckillTicket, sweepExpiringCoupons } from "./notifications";
import { TemplateFields, TemplateStore } from "./template-store";
import { mailTransport, MailTransport, smsProvider, SmsProvider } from "./transports";
import { bizError, retryableError } from "../shared/errors";
import { created } from "../shared/created";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

export type MessagesThis = Service &
  NotifyHost & {
    cfg: MallConfig;
    sequelize: Sequelize;
    models: MessagesModels;
    kv: KvStore;
    mail: MailTransport;
    sms: SmsProvider;
    inbox: InboxStore;
    couponTimer?: NodeJS.Timeout;
    /** set when the service stops: events that still arrive are refused and delivered again later */
    stopping?: boolean;
    outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
  };

const ADMIN = ["operator", "admin"];
const CHANNELS = ["inbox", "email", "sms"];
const LOCALES = ["zh-CN", "en"];
const code = { type: "string", pattern: /^[a-z0-9][a-z0-9._-]{1,63}$/, messages: { stringPattern: "a template code is 2-64 of a-z, 0-9, '.', '_' and '-'" } };
// 64 KB is checked in bytes by the store (TEMPLATE_TOO_LARGE); this only bounds what is parsed
const text = (max: number) => ({ type: "string", min: 1, max });
const vars = {
  type: "record",
  optional: true,
  key: { type: "string", pattern: /^[A-Za-z_][A-Za-z0-9_]{0,63}$/ },
  value: { type: "multi", rules: [{ type: "string", max: 65_536 }, { type: "number" }, { type: "boolean" }] },
};
const page = {
  page: { type: "number", integer: true, min: 1, max: 100_000, default: 1, convert: true },
  pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
};
const positive = { type: "number", integer: true, positive: true, convert: true };
const link = { type: "string", max: 255, pattern: /^\/[^\s]*$/, optional: true, messages: { stringPattern: "a link is a path on the shop, starting with /" } };

/**
 * Embedded shape: the outbox relay of another service calls this service's handlers directly and
 * may do so while this node stops; the refused event stays in that outbox for the next start.
 */
function live(svc: MessagesThis): void {
  if (svc.stopping) throw retryableError("messages is stopping; the event will be delivered again");
}

const MessagesService = {
  name: "messages",
  mixins: [DbMixin({ service: "messages", define: defineMessagesModels, primary: "Inbox" }), OutboxMixin({ producer: "messages" })],
  settings: { rest: "/" },

  actions: {
    // ── templates (admin) ────────────────────────────────────────────────────────────────────

    createTemplate: {
      rest: "POST /admin/message-templates",
      roles: ADMIN,
      idempotent: true,
      summary: "Create a message template for one channel and locale (admin); built-in codes are changed with PATCH",
      openapi: { status: 201, response: TemplateSchema, errors: ["TEMPLATE_EXISTS", "TEMPLATE_INVALID", "TEMPLATE_CHANNEL_MISMATCH", "TEMPLATE_TOO_LARGE"] },
      params: {
        code,
        channel: { type: "enum", values: CHANNELS },
        locale: { type: "enum", values: LOCALES, optional: true },
        category: { type: "enum", values: ["transactional", "marketing"], optional: true, description: "marketing (default): the user's settings may turn email/SMS off" },
        subject: text(1_000_000),
        body: text(1_000_000),
        enabled: { type: "boolean", optional: true },
      },
      async handler(this: MessagesThis, ctx: Ctx<{ code: string; channel: Channel; locale?: Locale; category?: Category; subject: string; body: string; enabled?: boolean }>): Promise<TemplateDto> {
        const t = await this.templates.create(ctx.params);
        created(ctx, "/admin/message-templates");
        return t;
      },
    },

    listTemplates: {
      rest: "GET /admin/message-templates",
      roles: ADMIN,
      summary: "Templates in effect: the shipped ones (with admins' overrides) and those admins created (admin)",
      openapi: { response: TemplatePageSchema },
      params: { channel: { type: "enum", values: CHANNELS, optional: true }, q: { type: "string", max: 64, optional: true }, ...page },
      handler(this: MessagesThis, ctx: Ctx<{ channel?: Channel; q?: string; page: number; pageSize: number }>): Promise<Page<TemplateDto>> {
        return this.templates.list(ctx.params);
      },
    },

    updateTemplate: {
      rest: "PATCH /admin/message-templates/:code",
      roles: ADMIN,
      summary: "Change a template in one locale, override a shipped one, or enable/disable it (admin)",
      openapi: { response: TemplateSchema, errors: ["TEMPLATE_NOT_FOUND", "TEMPLATE_INVALID", "TEMPLATE_PLACEHOLDER_UNKNOWN", "TEMPLATE_CHANNEL_MISMATCH", "TEMPLATE_TOO_LARGE"] },
      params: {
        code,
        locale: { type: "enum", values: LOCALES, optional: true },
        channel: { type: "enum", values: CHANNELS, optional: true, description: "if given, must be the template's channel" },
        category: { type: "enum", values: ["transactional", "marketing"], optional: true },
        subject: { ...text(1_000_000), optional: true },
        body: { ...text(1_000_000), optional: true },
        enabled: { type: "boolean", optional: true },
      },
      handler(this: MessagesThis, ctx: Ctx<TemplateFields & { code: string }>): Promise<TemplateDto> {
        const { code: c, ...patch } = ctx.params;
        return this.templates.update(c, patch);
      },
    },

    deleteTemplate: {
      rest: "DELETE /admin/message-templates/:code",
      roles: ADMIN,
      summary: "Delete a template (all locales, or ?locale=); for a shipped template this drops the override (admin)",
      openapi: { response: DeletedSchema, errors: ["TEMPLATE_NOT_FOUND", "TEMPLATE_BUILTIN"] },
      params: { code, locale: { type: "enum", values: LOCALES, optional: true } },
      handler(this: MessagesThis, ctx: Ctx<{ code: string; locale?: Locale }>) {
        return this.templates.remove(ctx.params.code, ctx.params.locale);
      },
    },

    previewTemplate: {
      rest: "POST /admin/message-templates/:code/preview",
      roles: ADMIN,
      summary: "Render a template with variables, sending nothing (admin)",
      openapi: { response: PreviewSchema, errors: ["TEMPLATE_NOT_FOUND", "TEMPLATE_VARS_MISSING", "TEMPLATE_VARS_UNKNOWN", "TEMPLATE_CHANNEL_MISMATCH", "TEMPLATE_TOO_LARGE"] },
      params: { code, vars, locale: { type: "enum", values: LOCALES, optional: true }, channel: { type: "enum", values: CHANNELS, optional: true } },
      async handler(this: MessagesThis, ctx: Ctx<{ code: string; vars?: Vars; locale?: Locale; channel?: Channel }>): Promise<PreviewDto> {
        const variants = await this.templates.variants(ctx.params.code);
        if (!variants.length) throw bizError("TEMPLATE_NOT_FOUND", undefined, { code: ctx.params.code });
        const locale = ctx.params.locale ?? DEFAULT_LOCALE;
        const t = variants.find((v) => v.locale === locale) ?? variants[0];
        if (ctx.params.channel && ctx.params.channel !== t.channel) throw bizError("TEMPLATE_CHANNEL_MISMATCH", `${t.code} is an ${t.channel} template`, { code: t.code, channel: t.channel });
        const given = ctx.params.vars ?? {};
        checkVarsSize(given);
        checkVars(this, [t], given, []);
        try {
          const r = this.templates.compiled(t).render(given);
          return { code: t.code, channel: t.channel, locale: t.locale, subject: r.subject, body: r.body, text: r.text ?? null };
        } catch (err) {
          if (err instanceof MissingVariableError) throw bizError("TEMPLATE_VARS_MISSING", err.message, { missing: [err.variable], locale: t.locale });
          throw err;
        }
      },
    },

    // ── batch sends and the delivery log (admin) ─────────────────────────────────────────────

    createBatch: {
      rest: "POST /admin/messages/batch",
      roles: ADMIN,
      idempotent: true,
      summary: "Send a template to many users (userIds, or all: true); answers at once, the sending runs in chunks (admin)",
      openapi: {
        status: 201,
        response: BatchCreatedSchema,
        errors: ["TEMPLATE_NOT_FOUND", "TEMPLATE_DISABLED", "TEMPLATE_CHANNEL_MISMATCH", "TEMPLATE_VARS_MISSING", "TEMPLATE_VARS_UNKNOWN", "TEMPLATE_TOO_LARGE", "BATCH_AUDIENCE_INVALID"],
      },
      params: {
        templateCode: code,
        userIds: { type: "array", optional: true, min: 1, max: MAX_BATCH_USER_IDS, items: { type: "number", integer: true, positive: true } },
        all: { type: "boolean", optional: true },
        vars,
        channel: { type: "enum", values: CHANNELS, optional: true, description: "if given, must be the template's channel" },
        link,
      },
      async handler(this: MessagesThis, ctx: Ctx<BatchParams>): Promise<BatchCreatedDto> {
        const r = await createBatch(this, ctx.meta.user!.id, ctx.params);
        created(ctx, `/admin/messages/batches/${r.batchId}`);
        return r;
      },
    },

    getBatch: {
      rest: "GET /admin/messages/batches/:id",
      roles: ADMIN,
      summary: "Progress of a batch send: queued, sent, failed, suppressed, skipped, pending (admin)",
      openapi: { response: BatchSchema, errors: ["BATCH_NOT_FOUND"] },
      params: { id: { type: "uuid" } },
      handler(this: MessagesThis, ctx: Ctx<{ id: string }>): Promise<BatchDto> {
        return batchView(this, ctx.params.id);
      },
    },

    listDeliveries: {
      rest: "GET /admin/messages/deliveries",
      roles: ADMIN,
      summary: "The delivery log, newest first: every inbox message, email and SMS with its status, attempts and error (admin)",
      openapi: { response: DeliveryPageSchema },
      params: {
        channel: { type: "enum", values: CHANNELS, optional: true },
        status: { type: "enum", values: ["PENDING", "SENDING", "RETRYING", "SENT", "LOGGED", "FAILED", "SUPPRESSED", "SKIPPED"], optional: true },
        userId: { ...positive, optional: true },
        batchId: { type: "uuid", optional: true },
        ...page,
      },
      handler(this: MessagesThis, ctx: Ctx<{ channel?: Channel; status?: DeliveryStatus; userId?: number; batchId?: string; page: number; pageSize: number }>): Promise<Page<DeliveryDto>> {
        return this.inbox.deliveries(ctx.params);
      },
    },

    getDelivery: {
      rest: "GET /admin/messages/deliveries/:id",
      roles: ADMIN,
      summary: "One delivery with what was sent, or would have been (email without SMTP_URL) (admin)",
      openapi: { response: DeliveryDetailSchema, errors: ["DELIVERY_NOT_FOUND"] },
      params: { id: positive },
      handler(this: MessagesThis, ctx: Ctx<{ id: number }>): Promise<DeliveryDetailDto> {
        return this.inbox.delivery(ctx.params.id);
      },
    },

    // ── inbox and settings (the user) ────────────────────────────────────────────────────────

    myMessages: {
      rest: "GET /users/me/messages",
      summary: "My inbox, newest first (?unread=true: only unread), with the unread count",
      openapi: { response: InboxPageSchema },
      params: { unread: { type: "boolean", optional: true, convert: true }, ...page },
      handler(this: MessagesThis, ctx: Ctx<{ unread?: boolean; page: number; pageSize: number }>): Promise<InboxPage> {
        return this.inbox.page(ctx.meta.user!.id, !!ctx.params.unread, ctx.params.page, ctx.params.pageSize);
      },
    },

    unreadCount: {
      rest: "GET /users/me/messages/unread-count",
      summary: "How many of my messages are unread",
      openapi: { response: UnreadSchema },
      params: {},
      async handler(this: MessagesThis, ctx: Ctx): Promise<{ unread: number }> {
        return { unread: await this.inbox.unread(ctx.meta.user!.id) };
      },
    },

    readMessage: {
      rest: "POST /users/me/messages/:id/read",
      summary: "Mark one of my messages read",
      openapi: { response: InboxMessageSchema, errors: ["MESSAGE_NOT_FOUND"] },
      params: { id: positive },
      handler(this: MessagesThis, ctx: Ctx<{ id: number }>): Promise<InboxMessageDto> {
        return this.inbox.read(ctx.meta.user!.id, ctx.params.id);
      },
    },

    readAll: {
      rest: "POST /users/me/messages/read-all",
      summary: "Mark all my messages read",
      openapi: { response: ReadAllSchema },
      params: {},
      handler(this: MessagesThis, ctx: Ctx): Promise<{ updated: number }> {
        return this.inbox.readAll(ctx.meta.user!.id);
      },
    },

    mySettings: {
      rest: "GET /users/me/notification-settings",
      summary: "My notification settings (marketing email and SMS; order messages always reach the inbox)",
      openapi: { response: SettingsSchema },
      params: {},
      handler(this: MessagesThis, ctx: Ctx): Promise<NotificationSettingsDto> {
        return this.deliverer.settings(ctx.meta.user!.id);
      },
    },

    updateSettings: {
      rest: "PATCH /users/me/notification-settings",
      summary: "Turn marketing email or SMS on or off",
      openapi: { response: SettingsSchema },
      params: { marketingEmail: { type: "boolean", optional: true }, marketingSms: { type: "boolean", optional: true } },
      handler(this: MessagesThis, ctx: Ctx<Partial<NotificationSettingsDto>>): Promise<NotificationSettingsDto> {
        return this.deliverer.updateSettings(ctx.meta.user!.id, ctx.params);
      },
    },
  },

  channels: {
    [OrderEvents.PAID]: {
      group: "messages",
      maxInFlight: 10,
      maxRetries: 10,
      handler(this: MessagesThis, env: EventEnvelope<OrderPaidEvent>) {
        live(this);
        return onOrderEvent(this, env, notices.orderPaid);
      },
    },
    [OrderEvents.SHIPPED]: {
      group: "messages",
      maxInFlight: 10,
      maxRetries: 10,
      handler(this: MessagesThis, env: EventEnvelope<OrderShippedEvent>) {
        live(this);
        return onOrderEvent(this, env, notices.orderShipped);
      },
    },
    [OrderEvents.CANCELLED]: {
      group: "messages",
      maxInFlight: 10,
      maxRetries: 10,
      handler(this: MessagesThis, env: EventEnvelope<OrderCancelledEvent>) {
        live(this);
        return onOrderEvent(this, env, notices.orderCancelled);
      },
    },
    [RefundEvents.APPROVED]: {
      group: "messages",
      maxInFlight: 10,
      maxRetries: 10,
      handler(this: MessagesThis, env: EventEnvelope<RefundDecisionEvent>) {
        live(this);
        return onOrderEvent(this, env, (d) => notices.refundDecided("approved", d));
      },
    },
    [RefundEvents.REJECTED]: {
      group: "messages",
      maxInFlight: 10,
      maxRetries: 10,
      handler(this: MessagesThis, env: EventEnvelope<RefundDecisionEvent>) {
        live(this);
        return onOrderEvent(this, env, (d) => notices.refundDecided("rejected", d));
      },
    },
    [PaymentEvents.REFUNDED]: {
      group: "messages",
      maxInFlight: 10,
      maxRetries: 10,
      handler(this: MessagesThis, env: EventEnvelope<PaymentRefundedEvent>) {
        live(this);
        return onPaymentRefunded(this, env);
      },
    },
    [SECKILL_TICKET]: {
      group: "messages",
      maxInFlight: 20,
      maxRetries: 10,
      handler(this: MessagesThis, msg: SeckillTicketEvent | EventEnvelope<SeckillTicketEvent>) {
        live(this);
        return onSeckillTicket(this, msg);
      },
    },
    [CouponEvents.CLAIMED]: {
      group: "messages",
      maxInFlight: 10,
      maxRetries: 10,
      handler(this: MessagesThis, env: EventEnvelope<CouponClaimedEvent>) {
        live(this);
        return onCouponClaimed(this, env);
      },
    },
    [InventoryEvents.LOW]: {
      group: "messages",
      maxInFlight: 5,
      maxRetries: 10,
      handler(this: MessagesThis, env: EventEnvelope<InventoryLowEvent>) {
        live(this);
        return onInventoryLow(this, env);
      },
    },
    // a batch of 100,000 must leave room for everything else: two chunks at a time per node
    [MessageChannels.BATCH]: {
      group: "messages-batch",
      maxInFlight: 2,
      maxRetries: 10,
      handler(this: MessagesThis, env: EventEnvelope<BatchChunk>) {
        live(this);
        return onBatchChunk(this, env);
      },
    },
  },

  created(this: MessagesThis) {
    this.cfg = configOf(this);
    this.kv = acquireKv(this.cfg.redisUrl, this.cfg.namespace);
    this.mail = mailTransport(this.cfg.messages);
    this.sms = smsProvider(this.cfg.messages);
    this.baseUrl = (this.cfg.publicBaseUrl ?? `http://localhost:${this.cfg.port || 3000}`).replace(/\/+$/, "");
    this.templates = new TemplateStore({ sequelize: this.sequelize, models: this.models });
    this.inbox = new InboxStore(this.models);
    this.deliverer = new Deliverer({
      sequelize: this.sequelize,
      models: this.models,
      templates: this.templates,
      cfg: this.cfg.messages,
      mail: this.mail,
      sms: this.sms,
      kv: this.kv,
      logger: this.logger,
    });
  },

  started(this: MessagesThis) {
    this.stopping = false;
    this.logger.info(`messages: email ${this.mail.kind === "smtp" ? "over SMTP" : "kept in the delivery log (no SMTP_URL)"}, SMS provider ${this.sms.name}`);
    this.deliverer.start();
    const sweepCoupons = () => {
      sweepExpiringCoupons(this, this.cfg.messages.couponNoticeHours)
        .then((n) => n && this.logger.info(`coupon expiry reminders: ${n} coupons`))
        .catch((err) => this.logger.warn(`coupon expiry sweep failed; next run in ${this.cfg.messages.couponSweepIntervalMs} ms: ${(err as Error)?.message ?? err}`))
        .finally(() => {
          if (this.couponTimer) this.couponTimer = setTimeout(sweepCoupons, this.cfg.messages.couponSweepIntervalMs);
        });
    };
    this.couponTimer = setTimeout(sweepCoupons, Math.min(this.cfg.messages.couponSweepIntervalMs, 60_000));
  },

  async stopped(this: MessagesThis) {
    this.stopping = true;
    clearTimeout(this.couponTimer);
    this.couponTimer = undefined;
    await this.deliverer.stop();
    this.mail.close();
    await releaseKv(this.cfg.redisUrl, this.cfg.namespace);
  },
};

export default MessagesService as unknown as ServiceSchema;
