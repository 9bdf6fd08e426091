/**
 * Shopping cart: add (merging into an existing line), change quantity, select/deselect, remove,
 * clear, and a view with live prices and availability, flagged problems and totals priced by
 * the order's own pricing (services/orders/domain/pricing.ts) with the promotions marketing
 * offers (services/orders/offers.ts, as checkout asks for them). Lines live in Redis in the
 * cluster and in a table in the embedded shape (cart-store.ts). The quote (POST /cart/quote) is
 * served by orders: it runs checkout's own pricing path.
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import { DbMixin } from "../../mixins/db.mixin";
import { CartModels, defineCartModels } from "../../models/cart";
import type { Meta } from "../shared/meta";
import { StockLevel } from "../inventory/inventory.contracts";
import type { PromotionOffer } from "../marketing/marketing.contracts";
import { fetchOffers } from "../orders/offers";
import { MallConfig, configOf } from "../shared/config";
import { bizError, validationError } from "../shared/errors";
import { KvStore, RedisKv, acquireKv, releaseKv } from "../shared/kv";
import { CartLine, CartSchema, CartView, RemoveLinesParams, SelectedLinesParams } from "./cart.contracts";
import { CartStore, RedisCartStore, SqlCartStore } from "./cart-store";
import { MAX_LINE_QUANTITY, SkuInfo, buildView } from "./domain/cart-rules";
import { callAction } from "../shared/actions";
import { InventoryCalls } from "../inventory/inventory.contracts";
import { CatalogCalls } from "../catalog/catalog.contracts";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

type CartThis = Service & {
  cfg: MallConfig;
  kv: KvStore | null;
  store: CartStore;
  models: CartModels;
  sequelize: import("sequelize").Sequelize;
  view(ctx: Ctx<unknown>, userId: number): Promise<CartView>;
  skuInfo(ctx: Ctx<unknown>, skuIds: number[]): Promise<Map<number, SkuInfo>>;
  promotions(ctx: Ctx<unknown>, userId: number, skus: SkuInfo[]): Promise<PromotionOffer[]>;
};

const skuIdParam = { type: "number", integer: true, positive: true, convert: true };
const quantity = { type: "number", integer: true, min: 1, max: MAX_LINE_QUANTITY };

const CartService = {
  name: "cart",
  mixins: [DbMixin({ service: "cart", define: defineCartModels, primary: "CartLine" })],
  settings: { rest: "/" },

  actions: {
    get: {
      rest: "GET /cart",
      openapi: { response: CartSchema },
      summary: "My cart with live prices, availability and totals",
      params: {},
      async handler(this: CartThis, ctx: Ctx) {
        return this.view(ctx, ctx.meta.user!.id);
      },
    },

    addItem: {
      rest: "POST /cart/items",
      openapi: { response: CartSchema, errors: ["SKU_NOT_FOUND", "PRODUCT_OFF_SALE", "CART_FULL", "CART_QUANTITY_INVALID"] },
      summary: "Add a SKU (adds to the existing line; 1-99 per line, at most 100 lines)",
      params: { skuId: { type: "number", integer: true, positive: true }, quantity },
      async handler(this: CartThis, ctx: Ctx<{ skuId: number; quantity: number }>) {
        const userId = ctx.meta.user!.id;
        const { skuId, quantity: q } = ctx.params;
        const sku = (await this.skuInfo(ctx, [skuId])).get(skuId);
        if (!sku) throw bizError("SKU_NOT_FOUND", undefined, { skuId });
        if (sku.status !== "ON_SALE") throw bizError("PRODUCT_OFF_SALE", undefined, { skuId });
        const res = await this.store.add(userId, skuId, q);
        if (!res.ok && res.reason === "FULL") throw bizError("CART_FULL");
        if (!res.ok) {
          throw bizError("CART_QUANTITY_INVALID", `a line holds at most ${MAX_LINE_QUANTITY} units; this line has ${res.current}`, {
            skuId,
            current: res.current,
            max: MAX_LINE_QUANTITY,
          });
        }
        return this.view(ctx, userId);
      },
    },

    selectItems: {
      rest: "PATCH /cart/items",
      openapi: { response: CartSchema },
      summary: "Select or deselect several lines (all lines when skuIds is absent)",
      params: { selected: "boolean", skuIds: { type: "array", optional: true, max: 100, items: { type: "number", integer: true, positive: true } } },
      async handler(this: CartThis, ctx: Ctx<{ selected: boolean; skuIds?: number[] }>) {
        const userId = ctx.meta.user!.id;
        const ids = ctx.params.skuIds ?? (await this.store.list(userId)).map((l) => l.skuId);
        for (const skuId of new Set(ids)) await this.store.update(userId, skuId, { selected: ctx.params.selected });
        return this.view(ctx, userId);
      },
    },

    updateItem: {
      rest: "PATCH /cart/items/:skuId",
      openapi: { response: CartSchema, errors: ["CART_LINE_NOT_FOUND"] },
      summary: "Set a line's quantity and/or whether it is selected",
      params: { skuId: skuIdParam, quantity: { ...quantity, optional: true }, selected: { type: "boolean", optional: true } },
      async handler(this: CartThis, ctx: Ctx<{ skuId: number; quantity?: number; selected?: boolean }>) {
        const userId = ctx.meta.user!.id;
        const { skuId, quantity: q, selected } = ctx.params;
        if (q === undefined && selected === undefined) {
          throw validationError([{ field: "quantity", message: "give quantity and/or selected", type: "required" }]);
        }
        if (!(await this.store.update(userId, skuId, { quantity: q, selected }))) throw bizError("CART_LINE_NOT_FOUND", undefined, { skuId });
        return this.view(ctx, userId);
      },
    },

    removeItem: {
      rest: "DELETE /cart/items/:skuId",
      openapi: { response: CartSchema, errors: ["CART_LINE_NOT_FOUND"] },
      summary: "Remove a line",
      params: { skuId: skuIdParam },
      async handler(this: CartThis, ctx: Ctx<{ skuId: number }>) {
        const userId = ctx.meta.user!.id;
        if ((await this.store.remove(userId, [ctx.params.skuId])) === 0) throw bizError("CART_LINE_NOT_FOUND", undefined, { skuId: ctx.params.skuId });
        return this.view(ctx, userId);
      },
    },

    clear: {
      rest: "DELETE /cart",
      openapi: { response: CartSchema },
      summary: "Empty the cart",
      params: {},
      async handler(this: CartThis, ctx: Ctx) {
        await this.store.clear(ctx.meta.user!.id);
        return this.view(ctx, ctx.meta.user!.id);
      },
    },

    selectedLines: {
      visibility: "public",
      summary: "Internal: the selected lines of a user's cart (checkout)",
      params: { userId: { type: "number", integer: true, positive: true } },
      async handler(this: CartThis, ctx: Context<SelectedLinesParams>): Promise<CartLine[]> {
        const lines = await this.store.list(ctx.params.userId);
        return lines.filter((l) => l.selected).sort((a, b) => a.skuId - b.skuId);
      },
    },

    removeLines: {
      visibility: "public",
      summary: "Internal: remove lines that were ordered",
      params: { userId: { type: "number", integer: true, positive: true }, skuIds: { type: "array", max: 100, items: { type: "number", integer: true, positive: true } } },
      async handler(this: CartThis, ctx: Context<RemoveLinesParams>) {
        return { removed: await this.store.remove(ctx.params.userId, ctx.params.skuIds) };
      },
    },
  },

  methods: {
    async skuInfo(this: CartThis, ctx: Ctx<unknown>, skuIds: number[]) {
      if (!skuIds.length) return new Map<number, SkuInfo>();
      const skus = await callAction(ctx, CatalogCalls.getSkus, { ids: skuIds });
      return new Map(skus.map((s) => [s.skuId, s]));
    },

    /** Promotions for the cart's SKUs, as checkout will see them; advisory here: none when marketing fails. */
    async promotions(this: CartThis, ctx: Ctx<unknown>, userId: number, skus: SkuInfo[]): Promise<PromotionOffer[]> {
      const lines = skus.map((s) => ({ skuId: s.skuId, productId: s.productId, categoryId: s.categoryId, categoryPath: s.categoryPath, unitPrice: s.price, quantity: 1, currency: s.currency }));
      try {
        return (await fetchOffers(ctx, lines, { userId })).promotions;
      } catch (err) {
        this.logger.warn("cart view: marketing did not answer; shown without promotions", (err as Error)?.message ?? err);
        return [];
      }
    },

    async view(this: CartThis, ctx: Ctx<unknown>, userId: number): Promise<CartView> {
      const lines = await this.store.list(userId);
      const ids = lines.map((l) => l.skuId);
      const [skus, levels] = await Promise.all([
        this.skuInfo(ctx, ids),
        ids.length
          ? callAction(ctx, InventoryCalls.getMany, { skuIds: ids }).catch((err) => {
              // availability is advisory here: show the cart without it rather than fail
              this.logger.warn("cart view: inventory did not answer", err?.message ?? err);
              return null;
            })
          : Promise.resolve([] as StockLevel[]),
      ]);
      const available = levels ? new Map(levels.map((l) => [Number(l.skuId), Number(l.available)])) : null;
      return buildView(lines, skus, available, await this.promotions(ctx, userId, [...skus.values()]));
    },
  },

  created(this: CartThis) {
    this.cfg = configOf(this);
    this.kv = this.cfg.redisUrl ? acquireKv(this.cfg.redisUrl, this.cfg.namespace) : null;
    this.store =
      this.kv instanceof RedisKv ? new RedisCartStore(this.kv.client, `${this.cfg.namespace}:`) : new SqlCartStore(this.sequelize, this.models);
  },

  async stopped(this: CartThis) {
    if (this.kv) await releaseKv(this.cfg.redisUrl, this.cfg.namespace);
  },
};

export default CartService as unknown as ServiceSchema;
