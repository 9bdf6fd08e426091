/**
 * The cluster shape's seckill store: Redis, one Lua script per operation (ioredis
 * `defineCommand`, which sends EVALSHA and falls back to EVAL on NOSCRIPT, so a restarted or
 * failed-over Redis that lost its script cache costs nothing). Every key of one sale carries
 * the hash tag `{ev<id>}`, so a script's keys share a hash slot and the scripts run on Redis
 * Cluster too. Tickets are kept as "userId|quantity|status|orderNo|reason|back" (store.ts).
 */
import Redis from "ioredis";
import { AdmitRefusal, AdmitResult, GiveBackResult, SaleSnapshot, SaleWindow, SeckillStore, StoredTicket, StreamEntry, decodeTicket, encodeTicket } from "./store";

const SPLIT = `
local function split(s)
  local t = {}
  for f in (s .. '|'):gmatch('([^|]*)|') do t[#t + 1] = f end
  return t
end
`;

/** drop `qty` from a buyer's count (the field goes when it reaches 0) */
const UNBUY = `
local function unbuy(key, user, qty)
  local left = redis.call('HINCRBY', key, user, -qty)
  if left <= 0 then redis.call('HDEL', key, user) end
end
`;

// KEYS meta pool buyers tickets stream · ARGV userId qty ticket nowMs address
const ADMIT = `
local m = redis.call('HMGET', KEYS[1], 'start', 'end', 'limit', 'state')
if not m[1] then return {'NOT_LOADED', 0} end
local now = tonumber(ARGV[4])
if m[4] ~= 'open' or now < tonumber(m[1]) or now >= tonumber(m[2]) then return {'NOT_ACTIVE', 0} end
local qty = tonumber(ARGV[2])
local had = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if had + qty > tonumber(m[3]) then return {'LIMIT', 0} end
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
if left < qty then return {'SOLD_OUT', 0} end
redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[3], ARGV[1], qty)
redis.call('HSET', KEYS[4], ARGV[3], ARGV[1] .. '|' .. ARGV[2] .. '|QUEUED|||')
redis.call('HINCRBY', KEYS[1], 'accepted', qty)
redis.call('XADD', KEYS[5], '*', 't', ARGV[3], 'u', ARGV[1], 'q', ARGV[2], 'a', ARGV[5], 'at', ARGV[4])
return {'OK', left - qty}
`;

// KEYS meta pool buyers tickets · ARGV ticket userId qty orderNo
const MARK_ORDERED =
  SPLIT +
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local v = redis.call('HGET', KEYS[4], ARGV[1])
if v then
  if split(v)[3] ~= 'QUEUED' then return 0 end
else
  -- written after the store was rebuilt without it: its units come off the pool now
  local qty = tonumber(ARGV[3])
  local left = tonumber(redis.call('GET', KEYS[2]) or '0')
  redis.call('SET', KEYS[2], math.max(0, left - qty))
  redis.call('HINCRBY', KEYS[3], ARGV[2], qty)
end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|SUCCEEDED|' .. ARGV[4] .. '||')
return 1
`;

// KEYS meta pool buyers tickets · ARGV ticket reason unitBack(1|0)
const MARK_FAILED =
  SPLIT +
  UNBUY +
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'NOT_LOADED' end
local v = redis.call('HGET', KEYS[4], ARGV[1])
if not v then return 'NOOP' end
local t = split(v)
if t[3] == 'FAILED' then
  if t[6] == 'stock' then return 'CLOSED' end
  return 'NOOP'
end
if t[3] ~= 'QUEUED' then return 'NOOP' end
local qty = tonumber(t[2])
unbuy(KEYS[3], t[1], qty)
local back, res = '', 'NOOP'
if ARGV[3] == '1' then
  if redis.call('HGET', KEYS[1], 'state') == 'open' then
    redis.call('INCRBY', KEYS[2], qty)
    back, res = 'pool', 'POOL'
  else
    back, res = 'stock', 'CLOSED'
  end
end
redis.call('HSET', KEYS[4], ARGV[1], t[1] .. '|' .. t[2] .. '|FAILED|' .. t[4] .. '|' .. ARGV[2] .. '|' .. back)
return res
`;

// KEYS meta pool buyers tickets · ARGV ticket
const GIVE_BACK =
  SPLIT +
  UNBUY +
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'NOT_LOADED' end
local v = redis.call('HGET', KEYS[4], ARGV[1])
if not v then return 'NOOP' end
local t = split(v)
if t[3] == 'RETURNED' then
  if t[6] == 'stock' then return 'CLOSED' end
  return 'NOOP'
end
if t[3] ~= 'SUCCEEDED' and t[3] ~= 'QUEUED' then return 'NOOP' end
local qty = tonumber(t[2])
unbuy(KEYS[3], t[1], qty)
local back, res = 'stock', 'CLOSED'
if redis.call('HGET', KEYS[1], 'state') == 'open' then
  redis.call('INCRBY', KEYS[2], qty)
  back, res = 'pool', 'POOL'
end
redis.call('HSET', KEYS[4], ARGV[1], t[1] .. '|' .. t[2] .. '|RETURNED|' .. t[4] .. '|expired|' .. back)
return res
`;

// KEYS meta pool
const CLOSE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'state') == 'closed' then return tonumber(redis.call('HGET', KEYS[1], 'closedRemaining') or '0') end
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('HSET', KEYS[1], 'state', 'closed', 'closedRemaining', left)
redis.call('SET', KEYS[2], 0)
return left
`;

// KEYS meta pool buyers tickets · ARGV start end limit state pool accepted closedRemaining buyersJson ticketsJson
const LOAD = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('SET', KEYS[2], ARGV[5])
for user, n in pairs(cjson.decode(ARGV[8])) do redis.call('HSET', KEYS[3], user, n) end
for ticket, v in pairs(cjson.decode(ARGV[9])) do redis.call('HSET', KEYS[4], ticket, v) end
redis.call('HSET', KEYS[1], 'start', ARGV[1], 'end', ARGV[2], 'limit', ARGV[3], 'state', ARGV[4], 'accepted', ARGV[6], 'closedRemaining', ARGV[7])
return 1
`;

const LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

type Scripted = {
  skAdmit(...a: (string | number)[]): Promise<[string, number]>;
  skMarkOrdered(...a: (string | number)[]): Promise<number>;
  skMarkFailed(...a: (string | number)[]): Promise<string>;
  skGiveBack(...a: (string | number)[]): Promise<string>;
  skClose(...a: (string | number)[]): Promise<number>;
  skLoad(...a: (string | number)[]): Promise<number>;
  skLease(...a: (string | number)[]): Promise<number>;
};

const GROUP = "relay";

export class RedisSeckillStore implements SeckillStore {
  readonly kind = "redis" as const;
  readonly client: Redis;
  private r: Scripted;
  private groups = new Set<number>();

  constructor(
    url: string,
    private prefix: string,
  ) {
    this.client = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    this.client.on("error", () => {
      /* surfaced by the calls and ping(); ioredis reconnects by itself */
    });
    this.client.defineCommand("skAdmit", { numberOfKeys: 5, lua: ADMIT });
    this.client.defineCommand("skMarkOrdered", { numberOfKeys: 4, lua: MARK_ORDERED });
    this.client.defineCommand("skMarkFailed", { numberOfKeys: 4, lua: MARK_FAILED });
    this.client.defineCommand("skGiveBack", { numberOfKeys: 4, lua: GIVE_BACK });
    this.client.defineCommand("skClose", { numberOfKeys: 2, lua: CLOSE });
    this.client.defineCommand("skLoad", { numberOfKeys: 4, lua: LOAD });
    this.client.defineCommand("skLease", { numberOfKeys: 1, lua: LEASE });
    this.r = this.client as unknown as Scripted;
  }

  /** meta, pool, buyers, tickets, stream — one hash slot per sale */
  keys(eventId: number): [string, string, string, string, string] {
    const tag = `${this.prefix}sk:{ev${eventId}}`;
    return [`${tag}:meta`, `${tag}:pool`, `${tag}:buyers`, `${tag}:tickets`, `${tag}:stream`];
  }

  async load(sale: SaleWindow, snap: SaleSnapshot): Promise<boolean> {
    const [meta, pool, buyers, tickets] = this.keys(sale.eventId);
    const t: Record<string, string> = {};
    for (const [k, v] of Object.entries(snap.tickets)) t[k] = encodeTicket(v);
    const closed = snap.closedRemaining !== null;
    const n = await this.r.skLoad(
      meta,
      pool,
      buyers,
      tickets,
      sale.startMs,
      sale.endMs,
      sale.perUserLimit,
      closed ? "closed" : "open",
      closed ? 0 : snap.pool,
      snap.accepted,
      snap.closedRemaining ?? 0,
      // cjson turns an empty table into an object either way
      JSON.stringify(snap.buyers),
      JSON.stringify(t),
    );
    if (Number(n) === 1) this.groups.delete(sale.eventId);
    return Number(n) === 1;
  }

  async isLoaded(eventId: number) {
    return (await this.client.exists(this.keys(eventId)[0])) === 1;
  }

  async admit(eventId: number, userId: number, quantity: number, ticket: string, nowMs: number, address: string): Promise<AdmitResult> {
    const [res, left] = await this.r.skAdmit(...this.keys(eventId), userId, quantity, ticket, nowMs, address);
    return res === "OK" ? { ok: true, left: Number(left) } : { ok: false, reason: res as AdmitRefusal };
  }

  async remaining(eventId: number) {
    const [meta, pool] = this.keys(eventId);
    const [[, exists], [, left]] = (await this.client.multi().exists(meta).get(pool).exec()) as [[unknown, number], [unknown, string | null]];
    return exists ? Number(left ?? 0) : null;
  }

  async accepted(eventId: number) {
    const v = await this.client.hget(this.keys(eventId)[0], "accepted");
    return v === null ? null : Number(v);
  }

  async ticket(eventId: number, ticket: string): Promise<StoredTicket | null> {
    const v = await this.client.hget(this.keys(eventId)[3], ticket);
    return v ? decodeTicket(v) : null;
  }

  async markOrdered(eventId: number, ticket: string, userId: number, quantity: number, orderNo: string) {
    const [meta, pool, buyers, tickets] = this.keys(eventId);
    await this.r.skMarkOrdered(meta, pool, buyers, tickets, ticket, userId, quantity, orderNo);
  }

  async markFailed(eventId: number, ticket: string, reason: string, unitBack: boolean): Promise<GiveBackResult> {
    const [meta, pool, buyers, tickets] = this.keys(eventId);
    return (await this.r.skMarkFailed(meta, pool, buyers, tickets, ticket, reason.replace(/\|/g, "/"), unitBack ? 1 : 0)) as GiveBackResult;
  }

  async giveBack(eventId: number, ticket: string): Promise<GiveBackResult> {
    const [meta, pool, buyers, tickets] = this.keys(eventId);
    return (await this.r.skGiveBack(meta, pool, buyers, tickets, ticket)) as GiveBackResult;
  }

  async close(eventId: number) {
    const [meta, pool] = this.keys(eventId);
    const n = Number(await this.r.skClose(meta, pool));
    return n < 0 ? null : n;
  }

  async forget(eventId: number) {
    await this.client.del(...this.keys(eventId));
    this.groups.delete(eventId);
  }

  private async group(eventId: number) {
    if (this.groups.has(eventId)) return;
    try {
      await this.client.xgroup("CREATE", this.keys(eventId)[4], GROUP, "0", "MKSTREAM");
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
    this.groups.add(eventId);
  }

  /** the group vanished with the keys (FLUSHALL, a restart without persistence): make it again */
  private async withGroup<T>(eventId: number, fn: () => Promise<T>): Promise<T> {
    await this.group(eventId);
    try {
      return await fn();
    } catch (err) {
      if (!/NOGROUP/.test((err as Error).message)) throw err;
      this.groups.delete(eventId);
      await this.group(eventId);
      return fn();
    }
  }

  async read(eventId: number, consumer: string, count: number): Promise<StreamEntry[]> {
    const stream = this.keys(eventId)[4];
    const res = (await this.withGroup(eventId, () => this.client.xreadgroup("GROUP", GROUP, consumer, "COUNT", count, "STREAMS", stream, ">"))) as
      | [string, [string, string[]][]][]
      | null;
    return res ? res[0][1].map(entry) : [];
  }

  async claim(eventId: number, consumer: string, minIdleMs: number, count: number): Promise<StreamEntry[]> {
    const stream = this.keys(eventId)[4];
    const res = (await this.withGroup(eventId, () => this.client.xautoclaim(stream, GROUP, consumer, minIdleMs, "0-0", "COUNT", count))) as [string, [string, string[] | null][]];
    // entries deleted meanwhile come back with no fields
    return res[1].filter((e): e is [string, string[]] => Array.isArray(e[1])).map(entry);
  }

  async ack(eventId: number, ids: string[]) {
    if (!ids.length) return;
    const stream = this.keys(eventId)[4];
    await this.client.multi().xack(stream, GROUP, ...ids).xdel(stream, ...ids).exec();
  }

  async pending(eventId: number) {
    return this.client.xlen(this.keys(eventId)[4]);
  }

  async lease(name: string, owner: string, ttlMs: number) {
    return Number(await this.r.skLease(`${this.prefix}sk:lease:${name}`, owner, ttlMs)) === 1;
  }

  async ping() {
    await this.client.ping();
  }

  async close_() {
    this.client.disconnect();
  }
}

function entry([id, fields]: [string, string[]]): StreamEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return { id, ticket: f.t, userId: Number(f.u), quantity: Number(f.q), address: f.a, acceptedAt: Number(f.at) };
}
