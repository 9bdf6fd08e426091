/** The KV store's counter peek and monotonic set, on both backends (memory embedded, Redis in the cluster). */
import crypto from "node:crypto";
import { KvStore, MemoryKv, RedisKv } from "../../services/shared/kv";
import { REDIS } from "../helpers/shop";

describe.each([
  ["memory", () => new MemoryKv()],
  ["redis", () => new RedisKv(REDIS, `kvt${crypto.randomBytes(4).toString("hex")}:`)],
])("KV store (%s)", (_name, make: () => KvStore) => {
  let kv: KvStore;
  beforeAll(() => {
    kv = make();
  });
  afterAll(() => kv.close());

  it("peek reads a counter and its time left without counting", async () => {
    expect(await kv.peek("c")).toEqual([0, 0]);
    await kv.incr("c", 60_000);
    await kv.incr("c", 60_000);
    const [n, left] = await kv.peek("c");
    expect(n).toBe(2);
    expect(left).toBeGreaterThan(50_000);
    expect((await kv.peek("c"))[0]).toBe(2);
  });

  it("setMax never lowers the stored value, even when writers race", async () => {
    await Promise.all([5, 9, 3, 7, 9, 1].map((v) => kv.setMax("e", v, 60_000)));
    expect(await kv.get("e")).toBe("9");
    await kv.setMax("e", 4, 60_000);
    expect(await kv.get("e")).toBe("9");
    await kv.setMax("e", 10, 60_000);
    expect(await kv.get("e")).toBe("10");
  });
});
