/**
 * Where cart lines live. One interface, two implementations chosen by configuration:
 *   - RedisCartStore (REDIS_URL set, the cluster): a hash per user, `<ns>:cart:{<userId>}`, field
 *     skuId → JSON {quantity, selected, addedAt}; every change is one Lua script, so "merge into
 *     the existing line" and "at most 100 lines" are atomic. The hash expires 30 days after its
 *     last change.
 *   - SqlCartStore (embedded): `cart_lines`, with the user's `carts` row locked while the line
 *     limit is checked and a line inserted; quantity merges are conditional UPDATEs.
 */
import type Redis from "ioredis";
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import type { CartModels } from "../../models/cart";
import { runUpdate, withRetriedTransaction } from "../shared/db";
import type { CartLine } from "./cart.contracts";
import { MAX_LINES, MAX_LINE_QUANTITY } from "./domain/cart-rules";

export const CART_TTL_MS = 30 * 24 * 3600_000;

export type AddResult = { ok: true; quantity: number } | { ok: false; reason: "QUANTITY" | "FULL"; current: number };

export interface CartPatch {
  quantity?: number;
  selected?: boolean;
}

export interface CartStore {
  readonly kind: "redis" | "sql";
  list(userId: number): Promise<CartLine[]>;
  /** add `quantity` units: merges into an existing line (and selects it), else a new line */
  add(userId: number, skuId: number, quantity: number): Promise<AddResult>;
  /** false when the user has no such line */
  update(userId: number, skuId: number, patch: CartPatch): Promise<boolean>;
  /** number of lines removed */
  remove(userId: number, skuIds: number[]): Promise<number>;
  clear(userId: number): Promise<void>;
}

// ── Redis ──────────────────────────────────────────────────────────────────────────────────

const ADD_LUA = `
local add = tonumber(ARGV[2])
local maxq = tonumber(ARGV[3])
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local line = cjson.decode(cur)
  local q = tonumber(line.quantity) + add
  if q > maxq then return {-1, tonumber(line.quantity)} end
  line.quantity = q
  line.selected = true
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(line))
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  return {1, q}
end
if add > maxq then return {-1, 0} end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return {-2, 0} end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({quantity = add, selected = true, addedAt = tonumber(ARGV[5])}))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {1, add}
`;

const UPDATE_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local line = cjson.decode(cur)
if ARGV[2] ~= '' then line.quantity = tonumber(ARGV[2]) end
if ARGV[3] ~= '' then line.selected = (ARGV[3] == '1') end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(line))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

type CartRedis = Redis & {
  mallCartAdd(key: string, skuId: number, add: number, maxQ: number, maxLines: number, now: number, ttl: number): Promise<[number, number]>;
  mallCartUpdate(key: string, skuId: number, quantity: string, selected: string, ttl: number): Promise<number>;
};

function parseLine(skuId: string, raw: string): CartLine | null {
  try {
    const v = JSON.parse(raw) as { quantity?: unknown; selected?: unknown; addedAt?: unknown };
    const quantity = Number(v.quantity);
    if (!Number.isSafeInteger(quantity) || quantity < 1) return null;
    return { skuId: Number(skuId), quantity, selected: v.selected !== false, addedAt: Number(v.addedAt) || 0 };
  } catch {
    return null;
  }
}

export class RedisCartStore implements CartStore {
  readonly kind = "redis" as const;
  private r: CartRedis;
  constructor(
    client: Redis,
    private prefix: string,
  ) {
    client.defineCommand("mallCartAdd", { numberOfKeys: 1, lua: ADD_LUA });
    client.defineCommand("mallCartUpdate", { numberOfKeys: 1, lua: UPDATE_LUA });
    this.r = client as CartRedis;
  }
  private key(userId: number) {
    // hash tag: a user's cart is one key in one slot (Redis Cluster safe)
    return `${this.prefix}cart:{${userId}}`;
  }
  async list(userId: number): Promise<CartLine[]> {
    const all = await this.r.hgetall(this.key(userId));
    return Object.entries(all)
      .map(([k, v]) => parseLine(k, v))
      .filter((l): l is CartLine => l !== null);
  }
  async add(userId: number, skuId: number, quantity: number): Promise<AddResult> {
    const [code, q] = await this.r.mallCartAdd(this.key(userId), skuId, quantity, MAX_LINE_QUANTITY, MAX_LINES, Date.now(), CART_TTL_MS);
    if (Number(code) === 1) return { ok: true, quantity: Number(q) };
    return { ok: false, reason: Number(code) === -2 ? "FULL" : "QUANTITY", current: Number(q) };
  }
  async update(userId: number, skuId: number, patch: CartPatch): Promise<boolean> {
    const q = patch.quantity === undefined ? "" : String(patch.quantity);
    const s = patch.selected === undefined ? "" : patch.selected ? "1" : "0";
    return Number(await this.r.mallCartUpdate(this.key(userId), skuId, q, s, CART_TTL_MS)) === 1;
  }
  async remove(userId: number, skuIds: number[]): Promise<number> {
    if (!skuIds.length) return 0;
    return this.r.hdel(this.key(userId), ...skuIds.map(String));
  }
  async clear(userId: number): Promise<void> {
    await this.r.del(this.key(userId));
  }
}

// ── SQL ────────────────────────────────────────────────────────────────────────────────────

export class SqlCartStore implements CartStore {
  readonly kind = "sql" as const;
  constructor(
    private sequelize: Sequelize,
    private models: CartModels,
  ) {}

  private get mysql() {
    return this.sequelize.getDialect() !== "sqlite";
  }

  /** A transaction retried on deadlock / lock-wait timeout. */
  private async tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T> {
    return withRetriedTransaction(this.sequelize, fn);
  }

  async list(userId: number): Promise<CartLine[]> {
    const rows = await this.models.CartLine.findAll({ where: { userId }, raw: true });
    return rows.map((r) => ({ skuId: Number(r.skuId), quantity: Number(r.quantity), selected: !!r.selected, addedAt: new Date(r.addedAt).getTime() }));
  }

  async add(userId: number, skuId: number, quantity: number): Promise<AddResult> {
    const now = new Date();
    // the per-user row every adding transaction locks; on MySQL it is created outside the
    // transaction, so two first adds never deadlock on the insert (SQLite writers are serial)
    const ensureCart = (t?: Transaction) =>
      this.sequelize.query(`${this.mysql ? "INSERT IGNORE" : "INSERT OR IGNORE"} INTO carts (user_id, created_at, updated_at) VALUES (?, ?, ?)`, {
        replacements: [userId, now, now],
        transaction: t,
        type: QueryTypes.INSERT,
      });
    if (this.mysql) await ensureCart();
    return this.tx(async (t) => {
      if (this.mysql) {
        await this.sequelize.query("SELECT user_id FROM carts WHERE user_id = ? FOR UPDATE", { replacements: [userId], transaction: t, type: QueryTypes.SELECT });
      } else await ensureCart(t);
      const existing = await this.models.CartLine.findOne({ where: { userId, skuId }, transaction: t, raw: true });
      if (existing) {
        const changed = await runUpdate(
          this.sequelize,
          "UPDATE cart_lines SET quantity = quantity + ?, selected = ?, updated_at = ? WHERE user_id = ? AND sku_id = ? AND quantity + ? <= ?",
          [quantity, true, now, userId, skuId, quantity, MAX_LINE_QUANTITY],
          t,
        );
        if (changed !== 1) return { ok: false, reason: "QUANTITY", current: Number(existing.quantity) };
        return { ok: true, quantity: Number(existing.quantity) + quantity };
      }
      if (quantity > MAX_LINE_QUANTITY) return { ok: false, reason: "QUANTITY", current: 0 };
      const count = await this.models.CartLine.count({ where: { userId }, transaction: t });
      if (count >= MAX_LINES) return { ok: false, reason: "FULL", current: 0 };
      await this.models.CartLine.create({ userId, skuId, quantity, selected: true, addedAt: now, updatedAt: now }, { transaction: t });
      await this.models.Cart.update({ updatedAt: now }, { where: { userId }, transaction: t });
      return { ok: true, quantity };
    });
  }

  async update(userId: number, skuId: number, patch: CartPatch): Promise<boolean> {
    const set: string[] = [];
    const values: unknown[] = [];
    if (patch.quantity !== undefined) {
      set.push("quantity = ?");
      values.push(patch.quantity);
    }
    if (patch.selected !== undefined) {
      set.push("selected = ?");
      values.push(patch.selected);
    }
    set.push("updated_at = ?");
    values.push(new Date());
    const n = await runUpdate(this.sequelize, `UPDATE cart_lines SET ${set.join(", ")} WHERE user_id = ? AND sku_id = ?`, [...values, userId, skuId]);
    // MySQL counts changed rows: setting the values a line already has changes nothing
    if (n === 0) return (await this.models.CartLine.count({ where: { userId, skuId } })) > 0;
    return true;
  }

  async remove(userId: number, skuIds: number[]): Promise<number> {
    if (!skuIds.length) return 0;
    return this.models.CartLine.destroy({ where: { userId, skuId: skuIds } });
  }

  async clear(userId: number): Promise<void> {
    await this.models.CartLine.destroy({ where: { userId } });
  }
}
