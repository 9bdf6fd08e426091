/**
 * Seckill: flash sales (API.md "Seckill", DESIGN.md "Seckill").
 *
 *   purchase (hot path, no database): the sale from this node's cache → the buyer's address
 *   (users, cached per node) → ONE atomic store operation (window, per-user limit, stock,
 *   decrement, buyer, ticket, stream entry) → 202 {ticket, QUEUED}.
 *   relay.ts   stream → durable channel `seckill.accepted` (msgID = ticket), ack after publish.
 *   writer.ts  `seckill.accepted` → orders.createOrder, once per ticket.
 *   admin.ts   publish (the units are set aside as one inventory hold), list, cancel, the sale-end sweep.
 *   reconcile  the store lost a sale's keys (Redis restart, FLUSHALL): rebuild it from the database.
 *
 * Order facts: a SECKILL order cancelled unpaid gives its unit back to the sale (or to normal
 * stock once the sale has closed) and frees the buyer's slot; a paid one sells one unit of the
 * sale's hold. Both are idempotent per order.
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Sequelize, Transaction } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { EventEnvelope, OutboxMixin } from "../../mixins/outbox.mixin";
import { SeckillModels, defineSeckillModels } from "../../models/seckill";
import type { Meta } from "../shared/meta";
import { configOf, MallConfig } from "../shared/config";
import { callAction } from "../shared/actions";
import { bizError, retryableError, validationError } from "../shared/errors";
import { Page } from "../shared/schema";
import { UserCalls } from "../users/users.contracts";
import { InventoryCalls } from "../inventory/inventory.contracts";
import { AddressSnapshot, OrderCancelledEvent, OrderEvents, OrderPaidEvent, OrderRefundedEvent } from "../orders/orders.contracts";
import { phaseCondition, phaseOf } from "./domain/sale-rules";
import { newTicket, ticketEvent } from "./domain/tickets";
import { AdminHost, PHASES, adminDto, cancelEvent, createEvent, loadWindow, publicDto, sweep } from "./admin";
import { EventRow, SaleDb, rowOf } from "./sale-db";
import { MemorySeckillStore } from "./memory-store";
import { RedisSeckillStore } from "./redis-store";
import { Relay } from "./relay";
import { OrderWriter } from "./writer";
import {
  AcceptedTicket,
  AdminSeckillEventDto,
  AdminSeckillEventPageSchema,
  AdminSeckillEventSchema,
  CreateSeckillEventParams,
  PurchaseParams,
  PurchaseResult,
  PurchaseResultSchema,
  EventPhase,
  SECKILL_GROUP,
  SeckillEventDto,
  SeckillEventPageSchema,
  SeckillEventSchema,
  SeckillEvents,
  TicketDto,
  TicketSchema,
  WRITER_GROUP,
  holdReference,
} from "./seckill.contracts";
import type { SeckillStore } from "./store";
import { QueryTypes } from "sequelize";
import { created } from "../shared/created";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

/** Prometheus: mall_seckill_repairs_total, mall_seckill_orders_written_total, mall_seckill_admitted_total */
export const REPAIRS_METRIC = "mall.seckill.repairs.total";
export const WRITTEN_METRIC = "mall.seckill.orders.written.total";
export const ADMITTED_METRIC = "mall.seckill.admitted.total";

const PUBLIC_CACHE_KEY = "seckill.public";
const EVENT_CACHE_MS = 2000;
const SOLD_OUT_HINT_MS = 100;
const ADDRESS_CACHE_MS = 60_000;
const ADDRESS_CACHE_MAX = 50_000;

export type SeckillThis = Service & {
  cfg: MallConfig;
  sequelize: Sequelize;
  models: SeckillModels;
  db: SaleDb;
  store: SeckillStore;
  writer: OrderWriter;
  relay: Relay;
  admin: AdminHost;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
  hasProcessed(consumer: string, eventId: string): Promise<boolean>;
  once<T>(consumer: string, eventId: string, fn: (t: Transaction) => Promise<T>): Promise<{ applied: boolean; result?: T }>;
  $events: Map<number, { ev: EventRow | null; at: number }>;
  $soldOut: Map<number, number>;
  $addresses: Map<string, { json: string; at: number }>;
  $live: number[];
  $timer?: NodeJS.Timeout;
  $stopped?: boolean;
  $pass?: Promise<unknown> | null;
  cachedEvent(id: number): Promise<EventRow | null>;
  addressOf(ctx: Ctx<unknown>, userId: number, addressId: number): Promise<string>;
  publicEvents(): Promise<EventRow[]>;
  changed(eventId: number): void;
  reconcile(): Promise<{ rebuilt: number[]; ended: number[] }>;
  refreshLive(): Promise<void>;
  onSeckillOrder(env: EventEnvelope<OrderCancelledEvent | OrderPaidEvent>, kind: "cancelled" | "paid"): Promise<void>;
  onSeckillRefund(env: EventEnvelope<OrderRefundedEvent>): Promise<void>;
};

const ADMIN = ["operator", "admin"];
const id = { type: "number", integer: true, positive: true, convert: true };
const pageParams = {
  page: { type: "number", integer: true, min: 1, max: 10_000, default: 1, convert: true },
  pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
};
const statusFilter = { type: "enum", values: ["upcoming", "active", "ended", "cancelled"], optional: true };

function paginate<T>(items: T[], page: number, pageSize: number): Page<T> {
  return { items: items.slice((page - 1) * pageSize, page * pageSize), total: items.length, page, pageSize };
}

const SeckillService = {
  name: "seckill",
  mixins: [DbMixin({ service: "seckill", define: defineSeckillModels, primary: "SeckillEvent" }), OutboxMixin({ producer: "seckill" })],
  settings: { rest: "/" },

  actions: {
    // ── admin ─────────────────────────────────────────────────────────────────────────────────
    adminCreate: {
      rest: "POST /admin/seckill/events",
      roles: ADMIN,
      idempotent: true,
      summary: "Publish a flash sale: its units are set aside from the SKU's stock at once",
      openapi: { status: 201, response: AdminSeckillEventSchema, errors: ["SKU_NOT_FOUND", "PRODUCT_OFF_SALE", "SECKILL_OVERLAP", "SECKILL_STOCK_SHORT"] },
      params: {
        skuId: id,
        title: { type: "string", trim: true, min: 1, max: 128 },
        price: { type: "number", integer: true, min: 0, max: 10_000_000_000 },
        quantity: { type: "number", integer: true, min: 0, max: 1_000_000 },
        perUserLimit: { type: "number", integer: true, min: 1, max: 1000 },
        startAt: { type: "date", convert: true },
        endAt: { type: "date", convert: true },
      },
      async handler(this: SeckillThis, ctx: Ctx<CreateSeckillEventParams>): Promise<AdminSeckillEventDto> {
        const dto = await createEvent(this.admin, ctx.params);
        created(ctx, `/admin/seckill/events/${dto.id}`);
        return dto;
      },
    },

    adminList: {
      rest: "GET /admin/seckill/events",
      roles: ADMIN,
      summary: "Sales with their figures (accepted, ordered, paid, expired, failed, remaining), newest first",
      openapi: { response: AdminSeckillEventPageSchema },
      params: { status: statusFilter, ...pageParams },
      async handler(this: SeckillThis, ctx: Ctx<{ status?: string; page: number; pageSize: number }>): Promise<Page<AdminSeckillEventDto>> {
        const { page, pageSize, status } = ctx.params;
        const phase = status ? phaseCondition(status as EventPhase, new Date()) : { sql: "1 = 1", args: [] };
        const where = `status <> 'PENDING' AND ${phase.sql}`;
        const [rows, [count]] = await Promise.all([
          this.sequelize.query<Record<string, unknown>>(`SELECT * FROM seckill_events WHERE ${where} ORDER BY id DESC LIMIT ? OFFSET ?`, {
            replacements: [...phase.args, pageSize, (page - 1) * pageSize],
            type: QueryTypes.SELECT,
          }),
          this.sequelize.query<{ n: number }>(`SELECT COUNT(*) AS n FROM seckill_events WHERE ${where}`, { replacements: phase.args, type: QueryTypes.SELECT }),
        ]);
        const items = await Promise.all(rows.map((r) => adminDto(this.admin, rowOf(r))));
        return { items, total: Number(count.n), page, pageSize };
      },
    },

    adminGet: {
      rest: "GET /admin/seckill/events/:id",
      roles: ADMIN,
      summary: "One sale with its figures",
      openapi: { response: AdminSeckillEventSchema, errors: ["SECKILL_EVENT_NOT_FOUND"] },
      params: { id },
      async handler(this: SeckillThis, ctx: Ctx<{ id: number }>): Promise<AdminSeckillEventDto> {
        const ev = await this.db.event(ctx.params.id);
        if (!ev || ev.status === "PENDING") throw bizError("SECKILL_EVENT_NOT_FOUND");
        return adminDto(this.admin, ev);
      },
    },

    adminCancel: {
      rest: "POST /admin/seckill/events/:id/cancel",
      roles: ADMIN,
      summary: "Cancel an upcoming sale; its units go back to stock",
      openapi: { response: AdminSeckillEventSchema, errors: ["SECKILL_EVENT_NOT_FOUND", "SECKILL_STATE_CONFLICT"] },
      params: { id },
      handler(this: SeckillThis, ctx: Ctx<{ id: number }>): Promise<AdminSeckillEventDto> {
        return cancelEvent(this.admin, ctx.params.id);
      },
    },

    // ── storefront ────────────────────────────────────────────────────────────────────────────
    list: {
      rest: "GET /seckill/events",
      auth: false,
      summary: "Sales (cached) with the units left (live)",
      openapi: { response: SeckillEventPageSchema },
      params: { status: statusFilter, ...pageParams },
      async handler(this: SeckillThis, ctx: Ctx<{ status?: string; page: number; pageSize: number }>): Promise<Page<SeckillEventDto>> {
        const now = Date.now();
        const rows = (await this.publicEvents()).filter((r) => (ctx.params.status ? phaseOf(r, now) === ctx.params.status : phaseOf(r, now) !== "cancelled"));
        const page = paginate(rows, ctx.params.page, ctx.params.pageSize);
        const left = await Promise.all(page.items.map((r) => this.store.remaining(r.id)));
        return { ...page, items: page.items.map((r, i) => publicDto(r, left[i], now)) };
      },
    },

    get: {
      rest: "GET /seckill/events/:id",
      auth: false,
      summary: "One sale (cached) with the units left (live)",
      openapi: { response: SeckillEventSchema, errors: ["SECKILL_EVENT_NOT_FOUND"] },
      params: { id },
      async handler(this: SeckillThis, ctx: Ctx<{ id: number }>): Promise<SeckillEventDto> {
        const ev = await this.cachedEvent(ctx.params.id);
        if (!ev) throw bizError("SECKILL_EVENT_NOT_FOUND");
        return publicDto(ev, await this.store.remaining(ev.id));
      },
    },

    purchase: {
      rest: "POST /seckill/events/:id/purchase",
      summary: "Try to buy in a flash sale: 202 with a ticket to poll; the order is written shortly after",
      // the gateway's per-user token bucket (api.service.ts) applies to actions that ask for it
      tokenBucket: true,
      bulkhead: { enabled: true, concurrency: 200, maxQueueSize: 2000 },
      openapi: { status: 202, response: PurchaseResultSchema, errors: ["SECKILL_EVENT_NOT_FOUND", "SECKILL_SOLD_OUT", "SECKILL_LIMIT_REACHED", "SECKILL_NOT_ACTIVE", "ADDRESS_NOT_FOUND", "RATE_LIMITED"] },
      params: { id, quantity: { type: "number", integer: true, min: 1, max: 1000, optional: true }, addressId: { type: "number", integer: true, positive: true } },
      async handler(this: SeckillThis, ctx: Ctx<PurchaseParams>): Promise<PurchaseResult> {
        const userId = ctx.meta.user!.id;
        const { id: eventId, addressId } = ctx.params;
        const quantity = ctx.params.quantity ?? 1;
        const ev = await this.cachedEvent(eventId);
        if (!ev) throw bizError("SECKILL_EVENT_NOT_FOUND");
        if (quantity > ev.perUserLimit) throw validationError([{ field: "quantity", message: `at most ${ev.perUserLimit} per buyer in this sale`, type: "numberMax" }]);
        const now = Date.now();
        if (ev.status !== "SCHEDULED" || now < ev.startAt.getTime() || now >= ev.endAt.getTime()) throw bizError("SECKILL_NOT_ACTIVE");
        // answered from this node for a moment after the store said so: most of a stampede is late
        if ((this.$soldOut.get(eventId) ?? 0) > now) throw bizError("SECKILL_SOLD_OUT");
        const address = await this.addressOf(ctx, userId, addressId);
        const ticket = newTicket(eventId, now);
        const r = await this.store.admit(eventId, userId, quantity, ticket, now, address);
        if (!r.ok) {
          switch (r.reason) {
            case "SOLD_OUT":
              this.$soldOut.set(eventId, now + SOLD_OUT_HINT_MS);
              throw bizError("SECKILL_SOLD_OUT");
            case "LIMIT":
              throw bizError("SECKILL_LIMIT_REACHED");
            case "NOT_ACTIVE":
              throw bizError("SECKILL_NOT_ACTIVE");
            default: {
              // cancelled meanwhile (another node dropped its keys), or the store lost the sale:
              // the reconciler rebuilds it from the database
              const fresh = await this.db.event(eventId);
              this.$events.set(eventId, { ev: fresh, at: Date.now() });
              if (!fresh || fresh.status !== "SCHEDULED") throw bizError("SECKILL_NOT_ACTIVE");
              void this.reconcile().catch(() => undefined);
              throw retryableError("the sale is being restored, try again in a moment");
            }
          }
        }
        this.broker.metrics.increment(ADMITTED_METRIC);
        // a sale published on another node: read its stream from now on, not from the next pass
        if (!this.$live.includes(eventId)) this.$live = [...this.$live, eventId];
        this.relay.kick();
        ctx.meta.$statusCode = 202;
        return { ticket, status: "QUEUED" };
      },
    },

    ticket: {
      rest: "GET /seckill/tickets/:ticket",
      summary: "Where my purchase stands: QUEUED, SUCCEEDED with its order, or FAILED with the reason",
      openapi: { response: TicketSchema, errors: ["SECKILL_TICKET_NOT_FOUND"] },
      params: { ticket: { type: "string", min: 1, max: 48 } },
      async handler(this: SeckillThis, ctx: Ctx<{ ticket: string }>): Promise<TicketDto> {
        const userId = ctx.meta.user!.id;
        const t = ctx.params.ticket;
        const eventId = ticketEvent(t);
        if (eventId === null) throw bizError("SECKILL_TICKET_NOT_FOUND");
        const stored = await this.store.ticket(eventId, t);
        if (stored && stored.userId === userId) {
          if (stored.status === "QUEUED") return { ticket: t, eventId, status: "QUEUED" };
          if (stored.status === "FAILED") return { ticket: t, eventId, status: "FAILED", reason: stored.reason || "the order could not be written" };
          if (stored.orderNo) return { ticket: t, eventId, status: "SUCCEEDED", orderNo: stored.orderNo };
        }
        const row = await this.db.ticketRow(t);
        if (!row || row.userId !== userId) {
          if (stored && stored.userId === userId) return { ticket: t, eventId, status: "QUEUED" };
          throw bizError("SECKILL_TICKET_NOT_FOUND");
        }
        if (row.status === "ACCEPTED") return { ticket: t, eventId, status: "QUEUED" };
        if (row.status === "FAILED") return { ticket: t, eventId, status: "FAILED", reason: row.reason ?? "the order could not be written" };
        return { ticket: t, eventId, status: "SUCCEEDED", orderNo: row.orderNo! };
      },
    },

    // ── internal ──────────────────────────────────────────────────────────────────────────────
    reconcile: {
      visibility: "public",
      summary: "Internal: run the reconciler and the sale-end sweep on this node now",
      params: {},
      handler(this: SeckillThis): Promise<{ rebuilt: number[]; ended: number[] }> {
        return this.reconcile();
      },
    },
  },

  channels: {
    [SeckillEvents.ACCEPTED]: {
      group: WRITER_GROUP,
      maxInFlight: 64,
      maxRetries: 5,
      async handler(this: SeckillThis, msg: AcceptedTicket, raw?: { info?: { redeliveryCount?: number } }) {
        const delivery = raw?.info?.redeliveryCount ?? 1;
        await this.writer.write(msg, delivery >= 5);
      },
    },
    [OrderEvents.CANCELLED]: {
      group: SECKILL_GROUP,
      maxInFlight: 20,
      maxRetries: 10,
      handler(this: SeckillThis, env: EventEnvelope<OrderCancelledEvent>) {
        return this.onSeckillOrder(env, "cancelled");
      },
    },
    [OrderEvents.PAID]: {
      group: SECKILL_GROUP,
      maxInFlight: 20,
      maxRetries: 10,
      handler(this: SeckillThis, env: EventEnvelope<OrderPaidEvent>) {
        return this.onSeckillOrder(env, "paid");
      },
    },
    [OrderEvents.REFUNDED]: {
      group: SECKILL_GROUP,
      maxInFlight: 20,
      maxRetries: 10,
      handler(this: SeckillThis, env: EventEnvelope<OrderRefundedEvent>) {
        return this.onSeckillRefund(env);
      },
    },
  },

  methods: {
    async cachedEvent(this: SeckillThis, eventId: number): Promise<EventRow | null> {
      const now = Date.now();
      const hit = this.$events.get(eventId);
      if (hit && now - hit.at < EVENT_CACHE_MS) return hit.ev;
      const ev = await this.db.event(eventId);
      const shown = ev && ev.status !== "PENDING" ? ev : null;
      if (this.$events.size > 10_000) this.$events.clear();
      this.$events.set(eventId, { ev: shown, at: now });
      return shown;
    },

    /** The buyer's address as the order will keep it, checked to be theirs (users), cached on this node. */
    async addressOf(this: SeckillThis, ctx: Ctx<unknown>, userId: number, addressId: number): Promise<string> {
      const key = `${userId}:${addressId}`;
      const now = Date.now();
      const hit = this.$addresses.get(key);
      if (hit && now - hit.at < ADDRESS_CACHE_MS) return hit.json;
      const a = await callAction(ctx, UserCalls.getAddress, { userId, addressId });
      const snap: AddressSnapshot = { id: a.id, name: a.name, mobile: a.mobile, province: a.province, city: a.city, district: a.district, detail: a.detail };
      const json = JSON.stringify(snap);
      if (this.$addresses.size >= ADDRESS_CACHE_MAX) this.$addresses.clear();
      this.$addresses.set(key, { json, at: now });
      return json;
    },

    /** Every sale a shopper may see, from the cacher (shared in the cluster), refilled from the database. */
    async publicEvents(this: SeckillThis): Promise<EventRow[]> {
      const cacher = this.broker.cacher;
      const hit = (await cacher?.get(PUBLIC_CACHE_KEY)) as Record<string, unknown>[] | null | undefined;
      const raw =
        hit ??
        (await this.sequelize.query<Record<string, unknown>>(
          "SELECT * FROM seckill_events WHERE status <> 'PENDING' AND end_at > ? ORDER BY start_at, id LIMIT 500",
          { replacements: [new Date(Date.now() - 7 * 24 * 3600_000)], type: QueryTypes.SELECT },
        ));
      if (!hit && cacher) await cacher.set(PUBLIC_CACHE_KEY, raw, 30);
      return raw.map(rowOf);
    },

    changed(this: SeckillThis, eventId: number) {
      this.$events.delete(eventId);
      this.$soldOut.delete(eventId);
      void this.broker.cacher?.del(PUBLIC_CACHE_KEY);
      void this.refreshLive().catch(() => undefined);
    },

    async refreshLive(this: SeckillThis) {
      this.$live = (await this.db.liveEvents()).map((e) => e.id);
    },

    /**
     * One pass, under a lease so that a crowd of nodes does not all rebuild at once (the
     * rebuild itself is conditional too: a sale already in the store is left alone): sales the
     * store lost are rebuilt from the database; then the sale-end sweep.
     */
    async reconcile(this: SeckillThis): Promise<{ rebuilt: number[]; ended: number[] }> {
      if (this.$pass) return (await this.$pass) as { rebuilt: number[]; ended: number[] };
      const run = async () => {
        const rebuilt: number[] = [];
        if (await this.store.lease("reconcile", this.broker.nodeID, 10_000)) {
          const live = await this.db.liveEvents();
          this.$live = live.map((e) => e.id);
          for (const ev of live) {
            if (await this.store.isLoaded(ev.id)) continue;
            const snap = await this.db.snapshot(ev);
            if (await this.store.load(loadWindow(ev), snap)) {
              rebuilt.push(ev.id);
              this.broker.metrics.increment(REPAIRS_METRIC, { kind: "rebuild" });
              this.logger.warn(
                `seckill reconciler: sale ${ev.id} was missing from the store; rebuilt from the database: ${snap.pool} units left, ${Object.keys(snap.buyers).length} buyers, ${Object.keys(snap.tickets).length} tickets`,
              );
            }
          }
        }
        const ended = await sweep(this.admin);
        return { rebuilt, ended };
      };
      this.$pass = run().finally(() => (this.$pass = null));
      return (await this.$pass) as { rebuilt: number[]; ended: number[] };
    },

    async onSeckillOrder(this: SeckillThis, env: EventEnvelope<OrderCancelledEvent | OrderPaidEvent>, kind: "cancelled" | "paid") {
      const d = env?.data;
      if (!d || d.source !== "SECKILL" || typeof d.orderNo !== "string") return;
      const row = await this.db.ticketByOrder(d.orderNo);
      if (!row) {
        // the writer has not recorded the order number yet (it answers from createOrder first): retry
        throw new Error(`seckill: no ticket for order ${d.orderNo} yet`);
      }
      if (kind === "paid") {
        await this.db.paid(row);
        await callAction(this.broker, InventoryCalls.commitPart, { reference: holdReference(row.eventId), key: `paid:${d.orderNo}`, quantity: row.quantity });
        return;
      }
      await this.db.expired(row);
      // idempotent: a repeat finds the ticket RETURNED and answers where its unit went
      const where = await this.store.giveBack(row.eventId, row.ticket);
      if (where === "CLOSED") {
        await callAction(this.broker, InventoryCalls.releasePart, { reference: holdReference(row.eventId), key: `back:${row.ticket}`, quantity: row.quantity });
      }
      if (where === "POOL") this.$soldOut.delete(row.eventId);
      this.changed(row.eventId);
    },

    /**
     * A refunded SECKILL order that had not shipped: its unit, sold out of the sale's hold
     * (commitPart `paid:<orderNo>`), goes back on hand — to normal stock, like a normal order's
     * refund (inventory.returnStock cannot find it: no reservation carries the order number).
     * Shipped goods stay gone. Idempotent per order (the return is a part keyed by the sold part);
     * the commit is repeated first (a replay when order.paid was handled) so that a refund
     * arriving before this node handled order.paid still finds the unit sold.
     */
    async onSeckillRefund(this: SeckillThis, env: EventEnvelope<OrderRefundedEvent>) {
      const d = env?.data;
      if (!d || d.source !== "SECKILL" || typeof d.orderNo !== "string") return;
      if (await this.hasProcessed(SECKILL_GROUP, env.eventId)) return;
      if (!d.restock) {
        // shipped goods are not back on the shelf (the same rule as a normal order's refund)
        await this.once(SECKILL_GROUP, env.eventId, async () => undefined);
        return;
      }
      const row = await this.db.ticketByOrder(d.orderNo);
      if (!row) {
        this.logger.error(`seckill: order.refunded ${env.eventId} for ${d.orderNo}, which has no ticket; no unit returned`);
        return;
      }
      const reference = holdReference(row.eventId);
      const key = `paid:${d.orderNo}`;
      await this.db.paid(row);
      await callAction(this.broker, InventoryCalls.commitPart, { reference, key, quantity: row.quantity });
      await callAction(this.broker, InventoryCalls.returnPart, { reference, key, reason: `refund ${d.refundId} of ${d.orderNo}` });
      await this.once(SECKILL_GROUP, env.eventId, async () => undefined);
    },
  },

  created(this: SeckillThis) {
    this.cfg = configOf(this);
    this.$events = new Map();
    this.$soldOut = new Map();
    this.$addresses = new Map();
    this.$live = [];
    this.db = new SaleDb({ sequelize: this.sequelize, models: this.models, outbox: (t, ch, data) => this.outbox(t, ch, data) });
    this.store = this.cfg.redisUrl ? new RedisSeckillStore(this.cfg.redisUrl, `${this.cfg.namespace}:`) : new MemorySeckillStore();
    const logger = { info: (m: string) => this.logger.info(m), warn: (m: string) => this.logger.warn(m), error: (m: string) => this.logger.error(m) };
    this.admin = { broker: this.broker, db: this.db, store: this.store, logger, onChanged: (id: number) => this.changed(id) };
    this.writer = new OrderWriter({
      broker: this.broker,
      db: this.db,
      store: this.store,
      event: (id: number) => this.cachedEvent(id),
      logger,
      onWritten: (n: number) => this.broker.metrics.increment(WRITTEN_METRIC, undefined, n),
    });
    const inProcess = !(this.broker as unknown as { transit?: unknown }).transit;
    this.relay = new Relay({
      broker: this.broker,
      store: this.store,
      writer: this.writer,
      liveSales: () => this.$live,
      consumer: this.broker.nodeID,
      inProcess,
      claimIdleMs: inProcess ? 1000 : this.cfg.seckill.relayClaimIdleMs,
      maxAttempts: 5,
      logger,
    });
    this.broker.metrics.register({ type: "counter", name: REPAIRS_METRIC, labelNames: ["kind"], description: "Seckill store repairs made by the reconciler" });
    this.broker.metrics.register({ type: "counter", name: WRITTEN_METRIC, description: "Orders written for seckill tickets" });
    this.broker.metrics.register({ type: "counter", name: ADMITTED_METRIC, description: "Seckill purchases admitted by the store" });
  },

  async started(this: SeckillThis) {
    this.$stopped = false;
    await this.refreshLive();
    this.relay.start();
    const every = this.cfg.seckill.reconcileIntervalMs;
    const tick = () => {
      if (this.$stopped) return;
      this.reconcile()
        .catch((err) => this.logger.warn(`seckill reconcile pass failed; next tick retries: ${(err as Error)?.message ?? err}`))
        .finally(() => {
          if (!this.$stopped) this.$timer = setTimeout(tick, every * (0.75 + Math.random() * 0.5));
        });
    };
    this.$timer = setTimeout(tick, Math.min(every, 200));
  },

  async stopped(this: SeckillThis) {
    this.$stopped = true;
    if (this.$timer) clearTimeout(this.$timer);
    await this.relay.stop();
    if (this.$pass) await this.$pass.catch(() => undefined);
    this.writer.stop();
    await this.store.close_();
  },
};

export default SeckillService as unknown as ServiceSchema;
