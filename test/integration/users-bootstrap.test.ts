/**
 * The users service creates (or resets) the bootstrap admin when it starts. Several users nodes
 * starting at the same moment must leave exactly one admin, all of them up, and — when the
 * password is generated — print it once. Cluster shape only: the embedded shape is one node.
 */
import { ServiceBroker } from "moleculer";
import { QueryTypes, Sequelize } from "sequelize";
import { parseConfig } from "../../services/shared/config";
import { createNode } from "../../services/shared/broker";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { ADMIN, Shop, client, startShop, waitFor } from "../helpers/shop";

const NODES = 6;

describe("bootstrap admin with many users nodes starting at once (cluster)", () => {
  let shop: Shop;
  let db: Sequelize;
  const extra: ServiceBroker[] = [];

  /** Start `n` more users nodes at once, with `env` over the shop's environment. */
  async function startUsersNodes(n: number, env: Record<string, string> = {}): Promise<PromiseSettledResult<void>[]> {
    const brokers = Array.from({ length: n }, (_, i) => {
      const cfg = parseConfig({ ...process.env, ...shop.env, ...env, NODE_ID: `extra${extra.length + i}-${shop.id}`, SERVICES: "users" });
      return createNode(cfg).broker;
    });
    extra.push(...brokers);
    return Promise.allSettled(brokers.map((b) => b.start()));
  }

  const count = async (sql: string) => {
    const [row] = await db.query<{ n: number | string }>(sql, { type: QueryTypes.SELECT });
    return Number(row.n);
  };

  beforeAll(async () => {
    shop = await startShop({ shape: "cluster", nodes: [["api"]], env: { ADMIN_USERNAME: "", ADMIN_PASSWORD: "" } });
    db = acquireSequelize(shop.databaseUrl);
  });
  afterAll(async () => {
    for (const b of extra) await b.stop().catch(() => undefined);
    if (db) await releaseSequelize(shop.databaseUrl);
    await shop?.stop();
  });

  it("with no ADMIN_* set, exactly one node creates the admin and prints its password once", async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    let started;
    try {
      started = await startUsersNodes(NODES);
    } finally {
      spy.mockRestore();
    }
    expect(started.filter((r) => r.status === "rejected")).toEqual([]);
    const banners = writes.filter((w) => w.includes("Admin account created"));
    expect(banners).toHaveLength(1);
    expect(await count("SELECT COUNT(*) AS n FROM user_roles WHERE role = 'admin'")).toBe(1);
    const password = /password: (\S+)/.exec(banners[0])![1];
    // the gateway builds the users routes a moment after the nodes appear
    const login = await waitFor(async () => {
      const r = await client(shop).post("auth/login", { username: "admin", password });
      return r.status === 404 || r.status === 503 ? null : r;
    });
    expect(login!.status).toBe(200);
  });

  it("with ADMIN_USERNAME/ADMIN_PASSWORD, nodes creating and resetting the admin at once all start; one admin, the given password works", async () => {
    const started = await startUsersNodes(NODES, { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password });
    expect(started.filter((r) => r.status === "rejected")).toEqual([]);
    expect(await count("SELECT COUNT(*) AS n FROM user_roles WHERE role = 'admin'")).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM users WHERE username_norm = 'admin'")).toBe(1);
    const login = await client(shop).post("auth/login", ADMIN);
    expect(login.status).toBe(200);
    expect(login.body.data.user.roles).toEqual(expect.arrayContaining(["admin", "customer"]));
  });
});
