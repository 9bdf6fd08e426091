/**
 * Inventory: on hand, reserved and available stock per SKU, reservations for orders, the
 * movement log, the `inventory.low` event, and the consumers of order facts (inventory.events.ts).
 * Internal actions (`init`, `getMany`, `reserve`, `release`, `commit`, `returnStock`) serve other
 * services and the REPL; the admin REST actions need the operator or admin role. Persistence and
 * its concurrency rules live in stock-store.ts.
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Transaction } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { InventoryModels, defineInventoryModels } from "../../models/inventory";
import type { Meta } from "../shared/meta";
import { configOf } from "../shared/config";
import { validationError } from "../shared/errors";
import { LineError, MAX_LINE_QUANTITY, mergeLines } from "./domain/lines";
import InventoryEventsMixin from "./inventory.events";
import {
  CommitParams,
  GetManyParams,
  HoldPart,
  HoldPartParams,
  InitParams,
  Page,
  ReleaseParams,
  Reservation,
  ReserveParams,
  ReturnPartParams,
  ReturnStockParams,
  STOCK_CHANGED_BROADCAST,
  StockChangedBroadcast,
  StockLevel,
  StockLevelPageSchema,
  StockLevelSchema,
  StockMovement,
  StockMovementPageSchema,
} from "./inventory.contracts";
import { releaseOrphans } from "./orphans";
import { Changed, MAX_ON_HAND, StockStore } from "./stock-store";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

export type InventoryThis = Service & {
  models: InventoryModels;
  sequelize: import("sequelize").Sequelize;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
  store: StockStore;
  published<T>(change: Changed<T>): T;
  flushStockChanged(): void;
  $stockChangedPending: Set<number>;
  $stockChangedTimer?: NodeJS.Timeout;
  reconcile(): Promise<number>;
  $reconciling?: Promise<number> | null;
  $reconcileTimer?: NodeJS.Timeout;
  $reconcileStopped?: boolean;
};

/** Prometheus: mall_inventory_orphans_released_total */
export const ORPHANS_RELEASED_METRIC = "mall.inventory.orphans.released.total";

/** Stock changes within this window share one catalog.stockChanged broadcast. */
const STOCK_BROADCAST_WINDOW_MS = 50;

const skuId = { type: "number", integer: true, positive: true, convert: true };
const reference = { type: "string", min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ };
const reason = { type: "string", min: 1, max: 255, trim: true };
const threshold = { type: "number", integer: true, min: 0, max: MAX_ON_HAND };
const pageParams = {
  page: { type: "number", integer: true, min: 1, default: 1, convert: true },
  pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
};
const ADMIN = ["operator", "admin"];

const InventoryService = {
  name: "inventory",
  // InventoryEventsMixin: order.paid → commit, order.cancelled → release (channel consumers)
  mixins: [DbMixin({ service: "inventory", define: defineInventoryModels, primary: "Stock" }), OutboxMixin({ producer: "inventory" }), InventoryEventsMixin],
  settings: { rest: "/" },

  actions: {
    // ── internal (other services, REPL) ──────────────────────────────────────────────────────

    init: {
      visibility: "public",
      summary: "Internal: create the stock row of a SKU if it has none (idempotent)",
      params: { skuId: { ...skuId, convert: false }, onHand: { type: "number", integer: true, min: 0, max: MAX_ON_HAND }, lowStockThreshold: { ...threshold, optional: true } },
      async handler(this: InventoryThis, ctx: Ctx<InitParams>): Promise<StockLevel> {
        const { skuId: id, onHand, lowStockThreshold = 0 } = ctx.params;
        const { level, created } = await this.store.init(id, onHand, lowStockThreshold);
        return this.published({ value: level, skuIds: created ? [id] : [] });
      },
    },

    getMany: {
      visibility: "public",
      summary: "Internal: stock levels of several SKUs (unknown SKUs are left out)",
      params: { skuIds: { type: "array", items: { ...skuId, convert: false }, max: 500 } },
      handler(this: InventoryThis, ctx: Ctx<GetManyParams>): Promise<StockLevel[]> {
        return this.store.levels([...new Set(ctx.params.skuIds)]);
      },
    },

    reserve: {
      visibility: "public",
      summary: "Internal: reserve every line or none; the same reference again returns the first reservation",
      params: {
        reference,
        lines: {
          type: "array",
          min: 1,
          max: 100,
          items: {
            type: "object",
            strict: true,
            props: { skuId: { ...skuId, convert: false }, quantity: { type: "number", integer: true, positive: true, max: MAX_LINE_QUANTITY } },
          },
        },
      },
      async handler(this: InventoryThis, ctx: Ctx<ReserveParams>): Promise<Reservation> {
        let lines;
        try {
          lines = mergeLines(ctx.params.lines);
        } catch (err) {
          if (err instanceof LineError) throw validationError([{ field: "lines", message: `${err.message} (SKU ${err.skuId})` }]);
          throw err;
        }
        return this.published(await this.store.reserve(ctx.params.reference, lines));
      },
    },

    release: {
      visibility: "public",
      summary: "Internal: OPEN → RELEASED: reserved stock becomes available again (idempotent)",
      params: { reference, reason: { ...reason, optional: true } },
      async handler(this: InventoryThis, ctx: Ctx<ReleaseParams>): Promise<Reservation> {
        return this.published(await this.store.transition("release", ctx.params.reference, ctx.params.reason));
      },
    },

    commit: {
      visibility: "public",
      summary: "Internal: OPEN → COMMITTED: reserved stock is sold and leaves on-hand (idempotent)",
      params: { reference },
      async handler(this: InventoryThis, ctx: Ctx<CommitParams>): Promise<Reservation> {
        return this.published(await this.store.transition("commit", ctx.params.reference, "sold"));
      },
    },

    returnStock: {
      visibility: "public",
      summary: "Internal: COMMITTED → RETURNED: a refunded, unshipped order's units go back on hand (idempotent)",
      params: { reference, reason: { ...reason, optional: true } },
      async handler(this: InventoryThis, ctx: Ctx<ReturnStockParams>): Promise<Reservation> {
        return this.published(await this.store.transition("return", ctx.params.reference, ctx.params.reason ?? "refund"));
      },
    },

    commitPart: {
      visibility: "public",
      summary: "Internal: sell some units of an OPEN hold (a flash sale's), once per key",
      params: { reference, key: reference, quantity: { type: "number", integer: true, positive: true, max: MAX_LINE_QUANTITY } },
      async handler(this: InventoryThis, ctx: Ctx<HoldPartParams>): Promise<HoldPart> {
        return this.published(await this.store.holdPart("commit", ctx.params.reference, ctx.params.key, ctx.params.quantity));
      },
    },

    releasePart: {
      visibility: "public",
      summary: "Internal: give some units of an OPEN hold back to available stock, once per key",
      params: { reference, key: reference, quantity: { type: "number", integer: true, positive: true, max: MAX_ON_HAND } },
      async handler(this: InventoryThis, ctx: Ctx<HoldPartParams>): Promise<HoldPart> {
        return this.published(await this.store.holdPart("release", ctx.params.reference, ctx.params.key, ctx.params.quantity));
      },
    },

    returnPart: {
      visibility: "public",
      summary: "Internal: a committed part of a hold (a flash-sale order's unit) goes back on hand, once per part",
      params: { reference, key: reference, reason: { ...reason, optional: true } },
      async handler(this: InventoryThis, ctx: Ctx<ReturnPartParams>): Promise<HoldPart> {
        return this.published(await this.store.returnPart(ctx.params.reference, ctx.params.key, ctx.params.reason));
      },
    },

    releaseOrphans: {
      visibility: "public",
      summary: "Internal: release, on this node now, reservations whose order never got written",
      params: {},
      async handler(this: InventoryThis): Promise<{ released: number }> {
        return { released: await this.reconcile() };
      },
    },

    // ── admin REST ───────────────────────────────────────────────────────────────────────────

    lowStock: {
      rest: "GET /inventory/low-stock",
      openapi: { response: StockLevelPageSchema },
      roles: ADMIN,
      summary: "SKUs whose available stock is at or under their threshold, lowest first",
      params: { ...pageParams },
      async handler(this: InventoryThis, ctx: Ctx<{ page: number; pageSize: number }>): Promise<Page<StockLevel>> {
        const { page, pageSize } = ctx.params;
        return { ...(await this.store.lowStock(page, pageSize)), page, pageSize };
      },
    },

    get: {
      rest: "GET /inventory/:skuId",
      openapi: { response: StockLevelSchema, errors: ["STOCK_NOT_FOUND"] },
      roles: ADMIN,
      summary: "Stock of one SKU",
      params: { skuId },
      handler(this: InventoryThis, ctx: Ctx<{ skuId: number }>): Promise<StockLevel> {
        return this.store.mustLevel(ctx.params.skuId);
      },
    },

    movements: {
      rest: "GET /inventory/:skuId/movements",
      openapi: { response: StockMovementPageSchema, errors: ["STOCK_NOT_FOUND"] },
      roles: ADMIN,
      summary: "Movement log of one SKU, newest first",
      params: { skuId, ...pageParams },
      async handler(this: InventoryThis, ctx: Ctx<{ skuId: number; page: number; pageSize: number }>): Promise<Page<StockMovement>> {
        const { skuId: id, page, pageSize } = ctx.params;
        await this.store.mustLevel(id);
        return { ...(await this.store.movements(id, page, pageSize)), page, pageSize };
      },
    },

    adjust: {
      rest: "POST /inventory/:skuId/adjust",
      openapi: { response: StockLevelSchema, errors: ["STOCK_NOT_FOUND", "STOCK_BELOW_RESERVED"] },
      roles: ADMIN,
      summary: "Add to or take from on-hand stock (never below what is reserved)",
      params: { skuId, delta: { type: "number", integer: true, notEqual: 0, min: -MAX_ON_HAND, max: MAX_ON_HAND }, reason },
      async handler(this: InventoryThis, ctx: Ctx<{ skuId: number; delta: number; reason: string }>): Promise<StockLevel> {
        const { skuId: id, delta, reason: why } = ctx.params;
        const by = ctx.meta.user ? `user:${ctx.meta.user.id}` : null;
        return this.published(await this.store.adjust(id, delta, why, by));
      },
    },

    setThreshold: {
      rest: "PATCH /inventory/:skuId",
      openapi: { response: StockLevelSchema, errors: ["STOCK_NOT_FOUND"] },
      roles: ADMIN,
      summary: "Set the low-stock threshold of a SKU",
      params: { skuId, lowStockThreshold: threshold },
      handler(this: InventoryThis, ctx: Ctx<{ skuId: number; lowStockThreshold: number }>): Promise<StockLevel> {
        return this.store.setThreshold(ctx.params.skuId, ctx.params.lowStockThreshold);
      },
    },
  },

  methods: {
    /** After a committed stock change: tell the catalog to drop cached availability. */
    published<T>(this: InventoryThis, change: Changed<T>): T {
      if (change.skuIds.length) {
        // coalesced: every change within STOCK_BROADCAST_WINDOW_MS goes out as one broadcast
        // (the catalog drops cached details; a hot SKU reserved 100×/s costs one message, not 100)
        for (const id of change.skuIds) this.$stockChangedPending.add(id);
        this.$stockChangedTimer ??= setTimeout(() => this.flushStockChanged(), STOCK_BROADCAST_WINDOW_MS);
      }
      return change.value;
    },

    /** One orphan pass at a time per node; nodes race each other only through compare-and-set. */
    reconcile(this: InventoryThis): Promise<number> {
      if (this.$reconciling) return this.$reconciling;
      const cfg = configOf(this);
      this.$reconciling = releaseOrphans({
        store: this.store,
        graceMs: cfg.reservationOrphanGraceMs,
        broker: this.broker,
        logger: this.logger,
        onReleased: (change) => {
          this.published(change);
          this.broker.metrics.increment(ORPHANS_RELEASED_METRIC);
        },
      }).finally(() => (this.$reconciling = null));
      return this.$reconciling;
    },

    flushStockChanged(this: InventoryThis): void {
      if (this.$stockChangedTimer) clearTimeout(this.$stockChangedTimer);
      this.$stockChangedTimer = undefined;
      if (!this.$stockChangedPending.size) return;
      const payload: StockChangedBroadcast = { skuIds: [...this.$stockChangedPending] };
      this.$stockChangedPending.clear();
      this.broker.broadcast(STOCK_CHANGED_BROADCAST, payload).catch((err: Error) => this.logger.warn("stockChanged broadcast failed", err?.message));
    },
  },

  created(this: InventoryThis) {
    this.$stockChangedPending = new Set();
    this.$stockChangedTimer = undefined;
    // DbMixin's created() ran first (mixins before the schema), so models are bound
    this.store = new StockStore({ sequelize: this.sequelize, models: this.models, outbox: (t, ch, data) => this.outbox(t, ch, data) });
    this.broker.metrics.register({
      type: "counter",
      name: ORPHANS_RELEASED_METRIC,
      description: "Reservations released because their order was never written",
    });
  },

  started(this: InventoryThis) {
    this.$reconcileStopped = false;
    const every = configOf(this).reservationReconcileIntervalMs;
    const tick = () => {
      if (this.$reconcileStopped) return;
      this.reconcile()
        .catch((err) => this.logger.warn(`orphan reservation pass failed; next tick retries: ${(err as Error)?.message ?? err}`))
        .finally(() => {
          // jitter keeps many nodes from passing in lockstep
          if (!this.$reconcileStopped) this.$reconcileTimer = setTimeout(tick, every * (0.75 + Math.random() * 0.5));
        });
    };
    this.$reconcileTimer = setTimeout(tick, every * Math.random());
  },

  async stopped(this: InventoryThis) {
    this.$reconcileStopped = true;
    if (this.$reconcileTimer) clearTimeout(this.$reconcileTimer);
    if (this.$reconciling) await this.$reconciling.catch(() => undefined);
    // send what is still pending before the transporter goes
    this.flushStockChanged();
  },
};

export default InventoryService as unknown as ServiceSchema;
