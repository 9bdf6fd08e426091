/**
 * The seckill store's semantics, one suite run against both implementations: Redis (Lua scripts,
 * on the shared Redis under a key prefix of its own) and process memory.
 */
import crypto from "node:crypto";
import { MemorySeckillStore } from "../../services/seckill/memory-store";
import { RedisSeckillStore } from "../../services/seckill/redis-store";
import type { SaleSnapshot, SeckillStore } from "../../services/seckill/store";
import { REDIS, dropRedisKeys } from "../helpers/shop";
import { registerNamespace } from "../helpers/leaks";

const prefix = `t${crypto.randomBytes(4).toString("hex")}`;
registerNamespace(prefix);
const empty = (pool: number): SaleSnapshot => ({ pool, buyers: {}, tickets: {}, closedRemaining: null, accepted: 0 });

describe.each([
  ["memory", () => new MemorySeckillStore() as SeckillStore],
  ["redis", () => new RedisSeckillStore(REDIS, `${prefix}:`) as SeckillStore],
])("seckill store (%s)", (_kind, make) => {
  let store: SeckillStore;
  let ev = 0;
  const now = Date.now();
  const sale = (id: number, o: Partial<{ startMs: number; endMs: number; perUserLimit: number }> = {}) => ({ eventId: id, startMs: now - 1000, endMs: now + 60_000, perUserLimit: 2, ...o });

  beforeAll(() => {
    store = make();
  });
  afterAll(async () => {
    await store.close_();
    await dropRedisKeys(prefix);
  });
  beforeEach(() => {
    ev = Math.floor(Math.random() * 1e9) + 1;
  });

  it("admits within the window, the limit and the stock; refuses with the reason", async () => {
    expect(await store.admit(ev, 1, 1, "t0", now, "{}")).toEqual({ ok: false, reason: "NOT_LOADED" });
    expect(await store.load(sale(ev), empty(3))).toBe(true);
    expect(await store.load(sale(ev), empty(99))).toBe(false);
    expect(await store.admit(ev, 1, 1, "t1", now - 5000, "{}")).toEqual({ ok: false, reason: "NOT_ACTIVE" });
    expect(await store.admit(ev, 1, 2, "t1", now, "{}")).toEqual({ ok: true, left: 1 });
    expect(await store.admit(ev, 1, 1, "t2", now, "{}")).toEqual({ ok: false, reason: "LIMIT" });
    expect(await store.admit(ev, 2, 2, "t3", now, "{}")).toEqual({ ok: false, reason: "SOLD_OUT" });
    expect(await store.admit(ev, 2, 1, "t4", now, "{}")).toEqual({ ok: true, left: 0 });
    expect(await store.remaining(ev)).toBe(0);
    expect(await store.accepted(ev)).toBe(3);
    expect(await store.ticket(ev, "t1")).toMatchObject({ userId: 1, quantity: 2, status: "QUEUED" });
    expect(await store.ticket(ev, "t2")).toBeNull();
  });

  it("stream: read once, ack, claim what a dead consumer left", async () => {
    await store.load(sale(ev, { perUserLimit: 5 }), empty(10));
    for (let i = 0; i < 3; i++) await store.admit(ev, 7, 1, `s${i}`, now, JSON.stringify({ i }));
    const got = await store.read(ev, "a", 10);
    expect(got.map((e) => e.ticket)).toEqual(["s0", "s1", "s2"]);
    expect(JSON.parse(got[1].address)).toEqual({ i: 1 });
    expect(await store.read(ev, "b", 10)).toEqual([]);
    await store.ack(ev, [got[0].id]);
    expect(await store.claim(ev, "b", 60_000, 10)).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    const claimed = await store.claim(ev, "b", 20, 10);
    expect(claimed.map((e) => e.ticket).sort()).toEqual(["s1", "s2"]);
    await store.ack(ev, claimed.map((e) => e.id));
    expect(await store.pending(ev)).toBe(0);
  });

  it("failed and expired tickets give units and slots back once; after the close they go to stock", async () => {
    await store.load(sale(ev, { perUserLimit: 1 }), empty(3));
    await store.admit(ev, 1, 1, "a", now, "{}");
    await store.admit(ev, 2, 1, "b", now, "{}");
    await store.admit(ev, 3, 1, "c", now, "{}");
    expect(await store.markFailed(ev, "a", "no", true)).toBe("POOL");
    expect(await store.markFailed(ev, "a", "no", true)).toBe("NOOP");
    expect(await store.remaining(ev)).toBe(1);
    expect(await store.admit(ev, 1, 1, "a2", now, "{}")).toMatchObject({ ok: true });
    await store.markOrdered(ev, "b", 2, 1, "O-B");
    expect(await store.ticket(ev, "b")).toMatchObject({ status: "SUCCEEDED", orderNo: "O-B" });
    expect(await store.giveBack(ev, "b")).toBe("POOL");
    expect(await store.giveBack(ev, "b")).toBe("NOOP");
    expect(await store.remaining(ev)).toBe(1);
    // the close returns the units left, the same number every time
    expect(await store.close(ev)).toBe(1);
    expect(await store.close(ev)).toBe(1);
    expect(await store.admit(ev, 9, 1, "z", now, "{}")).toEqual({ ok: false, reason: "NOT_ACTIVE" });
    await store.markOrdered(ev, "c", 3, 1, "O-C");
    expect(await store.giveBack(ev, "c")).toBe("CLOSED");
    expect(await store.giveBack(ev, "c")).toBe("CLOSED");
    expect(await store.remaining(ev)).toBe(0);
  });

  it("a rebuilt store knows the buyers and tickets; a ticket written after the rebuild takes its unit then", async () => {
    await store.load(sale(ev, { perUserLimit: 1 }), {
      pool: 2,
      buyers: { "5": 1 },
      tickets: { old: { userId: 5, quantity: 1, status: "SUCCEEDED", orderNo: "O-1", reason: "", back: "" } },
      closedRemaining: null,
      accepted: 1,
    });
    expect(await store.admit(ev, 5, 1, "x", now, "{}")).toEqual({ ok: false, reason: "LIMIT" });
    await store.markOrdered(ev, "late", 6, 1, "O-2");
    expect(await store.remaining(ev)).toBe(1);
    expect(await store.admit(ev, 6, 1, "y", now, "{}")).toEqual({ ok: false, reason: "LIMIT" });
    expect(await store.giveBack(ev, "old")).toBe("POOL");
    expect(await store.remaining(ev)).toBe(2);
  });

  it("a lease has one holder at a time", async () => {
    const name = `l${ev}`;
    expect(await store.lease(name, "n1", 1000)).toBe(true);
    expect(await store.lease(name, "n2", 1000)).toBe(false);
    expect(await store.lease(name, "n1", 1000)).toBe(true);
  });
});
