/**
 * A gateway's routes while the cluster changes under it: ready only once every expected
 * service's routes are in place, a documented route never 404s while catalog nodes join and
 * leave, and a service whose last node is gone answers a retryable 503 (its routes are kept)
 * until a node serves it again.
 */
import crypto from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { parseConfig } from "../../services/shared/config";
import { createNode } from "../../services/shared/broker";
import { Shop, client, startShop, waitFor } from "../helpers/shop";

function addNode(shop: Shop, services: string[], extra: Record<string, string> = {}): ServiceBroker {
  const id = crypto.randomBytes(3).toString("hex");
  const { broker } = createNode(parseConfig({ ...process.env, ...shop.env, ...extra, NODE_ID: `x-${services.join("-")}-${id}`, SERVICES: services.join(",") }));
  return broker;
}

describe("readiness waits for every route of the expected services (cluster)", () => {
  let shop: Shop;
  const extra: ServiceBroker[] = [];
  beforeAll(async () => {
    shop = await startShop({ shape: "cluster", nodes: [["api"], ["catalog", "inventory"]] });
  });
  afterAll(async () => {
    for (const b of extra) await b.stop().catch(() => undefined);
    await shop?.stop();
  });

  it("a gateway that also expects users is not ready, names users, and once ready never 404s the login route", async () => {
    for (let round = 0; round < 3; round++) {
      // a fresh gateway that expects users: until a users node exists it is not ready
      const gw = addNode(shop, ["api"], { EXPECTED_SERVICES: "users,catalog,inventory" });
      extra.push(gw);
      await gw.start();
      const url = `http://127.0.0.1:${(gw.getLocalService("api") as unknown as { server: { address(): { port: number } } }).server.address().port}`;
      await waitFor(async () => (await client({ url }).get("/ready")).body?.data?.checks?.routes === "ok", { what: "catalog routes" });
      const early = await client({ url }).get("/ready");
      expect(early.status).toBe(503);
      expect(early.body.data.missingServices).toEqual(["users"]);
      expect(early.body.data.checks.services).toBe("down: missing users");

      const users = addNode(shop, ["users"]);
      extra.push(users);
      await users.start();
      await waitFor(async () => (await fetch(`${url}/ready`)).status === 200, { what: "ready", interval: 200 });
      // the first request after /ready said yes reaches the service
      const login = await client({ url }).post("auth/login", { username: "nobody_here", password: "wrong-password" });
      expect(login.status).toBe(401);
      await users.stop();
      await gw.stop();
    }
  });
});

describe("nodes joining and leaving (cluster)", () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await startShop({ shape: "cluster", nodes: [["api"], ["catalog", "inventory"]] });
  });
  afterAll(() => shop?.stop());

  it("no request 404s while a second catalog node joins and leaves", async () => {
    const http = client(shop);
    const statuses = new Map<number, number>();
    let firing = true;
    const fire = (async () => {
      while (firing) {
        const r = await http.get("products?pageSize=5");
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    })();
    for (let i = 0; i < 3; i++) {
      const second = addNode(shop, ["catalog"]);
      await second.start();
      await waitFor(() => shop.brokers[0].registry.getServiceList({ onlyAvailable: true }).filter((s: { name: string }) => s.name === "catalog").length === 2, {
        what: "second catalog node seen by the gateway",
      });
      // let it serve a share of the requests before it goes
      const served = (statuses.get(200) ?? 0) + 20;
      await waitFor(() => (statuses.get(200) ?? 0) >= served, { what: "requests served" });
      await second.stop();
      await waitFor(() => shop.brokers[0].registry.getServiceList({ onlyAvailable: true }).filter((s: { name: string }) => s.name === "catalog").length === 1, {
        what: "second catalog node gone",
      });
      const after = (statuses.get(200) ?? 0) + 20;
      await waitFor(() => (statuses.get(200) ?? 0) >= after, { what: "requests served after it left" });
    }
    firing = false;
    await fire;
    expect(statuses.get(404) ?? 0).toBe(0);
    expect([...statuses.keys()]).toEqual([200]);
  });

  it("a service whose node died answers 503 SERVICE_UNAVAILABLE (retryable) and /ready names it; it comes back when a node does", async () => {
    const http = client(shop);
    expect((await http.get("products?pageSize=1")).status).toBe(200);
    await shop.brokers[1].stop();
    await waitFor(async () => (await http.get("products?pageSize=1")).status === 503, { what: "503 once catalog is gone" });
    const r = await http.get("products?pageSize=1");
    expect(r.body).toMatchObject({ code: 1503, type: "SERVICE_UNAVAILABLE", data: { retryable: true } });
    expect(r.headers.get("x-request-id")).toBe(r.body.traceId);
    const detail = await http.get("products/1");
    expect(detail.status).toBe(503);
    // reported, but the gateway stays in the load balancer: its other routes still work
    await waitFor(async () => (await http.get("/ready")).body.data?.status === "degraded", { what: "degraded" });
    const ready = await http.get("/ready");
    expect(ready.status).toBe(200);
    expect(ready.body.data.missingServices.sort()).toEqual(["catalog", "inventory"]);
    expect(ready.body.data.checks.services).toBe("degraded: missing catalog, inventory");
    // routes nobody ever served stay 404
    expect((await http.get("no/such/route")).status).toBe(404);

    const back = addNode(shop, ["catalog", "inventory"]);
    shop.brokers.push(back);
    await back.start();
    await waitFor(async () => (await http.get("products?pageSize=1")).status === 200, { what: "catalog back" });
    await waitFor(async () => (await http.get("/ready")).body.data?.status === "ready", { what: "ready again" });
  });
});
