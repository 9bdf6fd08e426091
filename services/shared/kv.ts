/**
 * A tiny key/value store with expiry, used for hot-path guards: token revocation, rate-limit
 * counters, login throttling, idempotency markers. Redis in the cluster shape (shared by every
 * node), process memory in the embedded shape (one node, so memory is the whole truth).
 */
import Redis from "ioredis";

export interface KvStore {
  readonly kind: "memory" | "redis";
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Set only if absent; true when this call set it. */
  setNx(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Increment a counter; the first increment starts its window of `ttlMs`. Returns [count, msLeft]. */
  incr(key: string, ttlMs: number): Promise<[number, number]>;
  /** A counter's value and ms left in its window, without counting: [0, 0] when absent. */
  peek(key: string): Promise<[number, number]>;
  /** Set an integer only if it is higher than (or equal to) the stored one, so racing writers cannot lower it. */
  setMax(key: string, value: number, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Overwrite only while the value is still `expected` (compare-and-set); true when it did. */
  replaceIf(key: string, expected: string, value: string, ttlMs: number): Promise<boolean>;
  /** Delete only while the value is still `expected`; true when it did. */
  delIf(key: string, expected: string): Promise<boolean>;
  /**
   * Token bucket: take one token from the bucket `key` (size `burst`, refilled at `perSec` a
   * second). Returns 0 when a token was taken, else the ms until one is there.
   */
  takeToken(key: string, burst: number, perSec: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One step of a token bucket: the state after taking a token at `now`, or the wait for one. */
export function bucketStep(state: { tokens: number; at: number } | undefined, burst: number, perSec: number, now: number): { state: { tokens: number; at: number }; waitMs: number } {
  const tokens = state ? Math.min(burst, state.tokens + ((now - state.at) * perSec) / 1000) : burst;
  if (tokens >= 1) return { state: { tokens: tokens - 1, at: now }, waitMs: 0 };
  return { state: { tokens, at: now }, waitMs: Math.ceil(((1 - tokens) * 1000) / perSec) };
}

export class MemoryKv implements KvStore {
  readonly kind = "memory" as const;
  private map = new Map<string, { v: string; exp: number }>();
  private sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  private sweep() {
    const now = Date.now();
    for (const [k, e] of this.map) if (e.exp <= now) this.map.delete(k);
  }

  private live(key: string) {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.exp <= Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }

  async get(key: string) {
    return this.live(key)?.v ?? null;
  }
  async set(key: string, value: string, ttlMs: number) {
    this.map.set(key, { v: value, exp: Date.now() + ttlMs });
  }
  async setNx(key: string, value: string, ttlMs: number) {
    if (this.live(key)) return false;
    this.map.set(key, { v: value, exp: Date.now() + ttlMs });
    return true;
  }
  async incr(key: string, ttlMs: number): Promise<[number, number]> {
    const e = this.live(key);
    if (!e) {
      this.map.set(key, { v: "1", exp: Date.now() + ttlMs });
      return [1, ttlMs];
    }
    e.v = String(Number(e.v) + 1);
    return [Number(e.v), e.exp - Date.now()];
  }
  async peek(key: string): Promise<[number, number]> {
    const e = this.live(key);
    return e ? [Number(e.v), e.exp - Date.now()] : [0, 0];
  }
  async setMax(key: string, value: number, ttlMs: number) {
    const e = this.live(key);
    if (!e || Number(e.v) <= value) this.map.set(key, { v: String(value), exp: Date.now() + ttlMs });
  }
  async del(key: string) {
    this.map.delete(key);
  }
  async replaceIf(key: string, expected: string, value: string, ttlMs: number) {
    if (this.live(key)?.v !== expected) return false;
    this.map.set(key, { v: value, exp: Date.now() + ttlMs });
    return true;
  }
  async delIf(key: string, expected: string) {
    if (this.live(key)?.v !== expected) return false;
    this.map.delete(key);
    return true;
  }
  private buckets = new Map<string, { tokens: number; at: number }>();
  async takeToken(key: string, burst: number, perSec: number) {
    const now = Date.now();
    if (this.buckets.size > 100_000) this.buckets.clear();
    const { state, waitMs } = bucketStep(this.buckets.get(key), burst, perSec, now);
    this.buckets.set(key, state);
    return waitMs;
  }
  async ping() {}
  async close() {
    clearInterval(this.sweeper);
    this.map.clear();
    this.buckets.clear();
  }
}

const INCR_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

const SET_MAX_SCRIPT = `
local cur = tonumber(redis.call('GET', KEYS[1]))
if cur == nil or cur <= tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
`;

const REPLACE_IF_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

const DEL_IF_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`;

// KEYS bucket · ARGV burst perSec nowMs — the same arithmetic as bucketStep(), atomically
const TAKE_TOKEN_SCRIPT = `
local burst, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = burst
if s[1] then tokens = math.min(burst, tonumber(s[1]) + (now - tonumber(s[2])) * rate / 1000) end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
`;

type ScriptedRedis = {
  mallTakeToken(k: string, burst: number, perSec: number, now: number): Promise<number>;
  mallIncr(k: string, t: number): Promise<[number, number]>;
  mallSetMax(k: string, v: number, t: number): Promise<number>;
  mallReplaceIf(k: string, expected: string, value: string, ttl: number): Promise<number>;
  mallDelIf(k: string, expected: string): Promise<number>;
};

export class RedisKv implements KvStore {
  readonly kind = "redis" as const;
  readonly client: Redis;
  constructor(
    url: string,
    private prefix: string,
  ) {
    this.client = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
    this.client.on("error", () => {
      /* surfaced through ping()/readiness; ioredis reconnects by itself */
    });
    this.client.defineCommand("mallIncr", { numberOfKeys: 1, lua: INCR_SCRIPT });
    this.client.defineCommand("mallSetMax", { numberOfKeys: 1, lua: SET_MAX_SCRIPT });
    this.client.defineCommand("mallReplaceIf", { numberOfKeys: 1, lua: REPLACE_IF_SCRIPT });
    this.client.defineCommand("mallDelIf", { numberOfKeys: 1, lua: DEL_IF_SCRIPT });
    this.client.defineCommand("mallTakeToken", { numberOfKeys: 1, lua: TAKE_TOKEN_SCRIPT });
  }
  private k(key: string) {
    return this.prefix + key;
  }
  async get(key: string) {
    return this.client.get(this.k(key));
  }
  async set(key: string, value: string, ttlMs: number) {
    await this.client.set(this.k(key), value, "PX", Math.max(1, Math.ceil(ttlMs)));
  }
  async setNx(key: string, value: string, ttlMs: number) {
    const r = await this.client.set(this.k(key), value, "PX", Math.max(1, Math.ceil(ttlMs)), "NX");
    return r === "OK";
  }
  async incr(key: string, ttlMs: number): Promise<[number, number]> {
    const [n, ttl] = (await (this.client as unknown as ScriptedRedis).mallIncr(
      this.k(key),
      Math.max(1, Math.ceil(ttlMs)),
    )) as [number, number];
    return [Number(n), Number(ttl)];
  }
  async peek(key: string): Promise<[number, number]> {
    const res = await this.client.multi().get(this.k(key)).pttl(this.k(key)).exec();
    const [[, v], [, ttl]] = res as [[unknown, string | null], [unknown, number]];
    return v === null ? [0, 0] : [Number(v), Math.max(0, Number(ttl))];
  }
  async setMax(key: string, value: number, ttlMs: number) {
    await (this.client as unknown as ScriptedRedis).mallSetMax(this.k(key), value, Math.max(1, Math.ceil(ttlMs)));
  }
  async del(key: string) {
    await this.client.del(this.k(key));
  }
  async replaceIf(key: string, expected: string, value: string, ttlMs: number) {
    const n = await (this.client as unknown as ScriptedRedis).mallReplaceIf(this.k(key), expected, value, Math.max(1, Math.ceil(ttlMs)));
    return Number(n) === 1;
  }
  async delIf(key: string, expected: string) {
    return Number(await (this.client as unknown as ScriptedRedis).mallDelIf(this.k(key), expected)) === 1;
  }
  async takeToken(key: string, burst: number, perSec: number) {
    // the gateway's clock, not Redis's: every gateway of one shop runs on synchronised hosts
    return Number(await (this.client as unknown as ScriptedRedis).mallTakeToken(this.k(key), burst, perSec, Date.now()));
  }
  async ping() {
    await this.client.ping();
  }
  async close() {
    this.client.disconnect();
  }
}

const stores = new Map<string, { store: KvStore; refs: number }>();

/** Shared store per (redisUrl, namespace) in this process; reference counted like the DB. */
export function acquireKv(redisUrl: string | null, namespace: string): KvStore {
  const id = `${redisUrl ?? "memory"}|${namespace}`;
  let e = stores.get(id);
  if (!e) {
    e = { store: redisUrl ? new RedisKv(redisUrl, `${namespace}:`) : new MemoryKv(), refs: 0 };
    stores.set(id, e);
  }
  e.refs++;
  return e.store;
}

export async function releaseKv(redisUrl: string | null, namespace: string): Promise<void> {
  const id = `${redisUrl ?? "memory"}|${namespace}`;
  const e = stores.get(id);
  if (!e) return;
  e.refs--;
  if (e.refs <= 0) {
    stores.delete(id);
    await e.store.close();
  }
}
