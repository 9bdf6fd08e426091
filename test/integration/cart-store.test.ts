/**
 * Both cart stores against real backends: Redis (cluster), SQLite (embedded) and MySQL (a
 * cluster without Redis). The same suite runs against each: merges are exact and capped at 99
 * under concurrency, a cart never passes 100 lines however many adds race, updates and removals.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import { Sequelize } from "sequelize";
import { defineCartModels } from "../../models/cart";
import { CartStore, RedisCartStore, SqlCartStore } from "../../services/cart/cart-store";
import { acquireSequelize, dropDatabase, releaseSequelize } from "../../services/shared/db";
import { migrate } from "../../services/shared/migrator";
import { MYSQL, REDIS } from "../helpers/shop";

interface Backend {
  store: CartStore;
  close(): Promise<void>;
}

async function sqlBackend(url: string, cleanup: () => Promise<void>): Promise<Backend> {
  await migrate(url);
  const s: Sequelize = acquireSequelize(url);
  return {
    store: new SqlCartStore(s, defineCartModels(s)),
    async close() {
      await releaseSequelize(url);
      await cleanup();
    },
  };
}

const backends: [string, () => Promise<Backend>][] = [
  [
    "redis",
    async () => {
      const client = new Redis(REDIS);
      const prefix = `tcart${crypto.randomBytes(4).toString("hex")}:`;
      return {
        store: new RedisCartStore(client, prefix),
        async close() {
          const keys = await client.keys(`${prefix}*`);
          if (keys.length) await client.del(...keys);
          client.disconnect();
        },
      };
    },
  ],
  [
    "sqlite",
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cart-store-"));
      return sqlBackend(`sqlite:${path.join(dir, "c.sqlite")}`, async () => fs.rmSync(dir, { recursive: true, force: true }));
    },
  ],
  [
    "mysql",
    async () => {
      const url = `${MYSQL}/mall_cart_${crypto.randomBytes(4).toString("hex")}`;
      return sqlBackend(url, () => dropDatabase(url));
    },
  ],
];

describe.each(backends)("cart store (%s)", (_name, make) => {
  let b: Backend;
  let nextUser = 1;
  beforeAll(async () => {
    b = await make();
  });
  afterAll(async () => {
    await b?.close();
  });

  it("adds, merges, updates, removes and clears", async () => {
    const u = nextUser++;
    expect(await b.store.add(u, 10, 2)).toEqual({ ok: true, quantity: 2 });
    expect(await b.store.add(u, 10, 3)).toEqual({ ok: true, quantity: 5 });
    expect(await b.store.add(u, 11, 1)).toEqual({ ok: true, quantity: 1 });
    expect(await b.store.update(u, 10, { selected: false })).toBe(true);
    expect(await b.store.update(u, 10, { selected: false })).toBe(true); // same value again is still "found"
    expect(await b.store.update(u, 12, { quantity: 1 })).toBe(false);
    // adding to a deselected line selects it again
    expect(await b.store.update(u, 11, { selected: false, quantity: 7 })).toBe(true);
    const lines = (await b.store.list(u)).sort((x, y) => x.skuId - y.skuId);
    expect(lines.map(({ skuId, quantity, selected }) => ({ skuId, quantity, selected }))).toEqual([
      { skuId: 10, quantity: 5, selected: false },
      { skuId: 11, quantity: 7, selected: false },
    ]);
    await b.store.add(u, 10, 1);
    expect((await b.store.list(u)).find((l) => l.skuId === 10)).toMatchObject({ quantity: 6, selected: true });
    expect(await b.store.remove(u, [11, 99])).toBe(1);
    expect(await b.store.list(u)).toHaveLength(1);
    await b.store.clear(u);
    expect(await b.store.list(u)).toEqual([]);
  });

  it("refuses to pass 99 units and leaves the line as it was", async () => {
    const u = nextUser++;
    await b.store.add(u, 1, 98);
    expect(await b.store.add(u, 1, 2)).toEqual({ ok: false, reason: "QUANTITY", current: 98 });
    expect(await b.store.add(u, 1, 1)).toEqual({ ok: true, quantity: 99 });
    expect((await b.store.list(u))[0].quantity).toBe(99);
  });

  it("merges 50 concurrent adds exactly", async () => {
    const u = nextUser++;
    const res = await Promise.all(Array.from({ length: 50 }, () => b.store.add(u, 7, 3)));
    expect(res.filter((r) => r.ok)).toHaveLength(33);
    expect((await b.store.list(u))[0].quantity).toBe(99);
  });

  it("never holds more than 100 lines, however many adds race", async () => {
    const u = nextUser++;
    const res = await Promise.all(Array.from({ length: 130 }, (_, i) => b.store.add(u, 1000 + i, 1)));
    expect(res.filter((r) => r.ok)).toHaveLength(100);
    expect(res.filter((r) => !r.ok).every((r) => !r.ok && r.reason === "FULL")).toBe(true);
    expect(await b.store.list(u)).toHaveLength(100);
    // an existing line can still grow in a full cart
    expect((await b.store.add(u, (await b.store.list(u))[0].skuId, 1)).ok).toBe(true);
  });
});
