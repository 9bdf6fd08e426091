/**
 * Gateway transport concerns over real HTTP: rate limiting that X-Forwarded-For cannot dodge
 * (shared through Redis by two gateways in the cluster), login throttling (the rule and its other
 * side, that a stranger cannot lock the owner out, are in sessions.test.ts), CORS, masking of
 * internal errors, and readiness that names the failing dependency.
 */
import crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";
import { parseConfig } from "../../services/shared/config";
import { createNode } from "../../services/shared/broker";
import { Shop, cleanupNamespace, client, newCustomer, startShop, testEnv, waitFor } from "../helpers/shop";

describe.each([
  ["embedded", { shape: "embedded" as const }],
  ["cluster", { shape: "cluster" as const, nodes: [["api"], ["api"], ["users"]] }],
])("gateway rate limits (%s)", (_name, opts) => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await startShop({
      ...opts,
      env: { RATE_LIMIT_ENABLED: "true", RATE_LIMIT_MAX: "8", RATE_LIMIT_WINDOW_MS: "60000", LOGIN_RATE_LIMIT_MAX: "3" },
    });
  });
  afterAll(() => shop?.stop());

  it("limits a client per window and a spoofed X-Forwarded-For does not reset it", async () => {
    // each gateway node counts in the same store: requests alternate between them in the cluster
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const url = shop.urls[i % shop.urls.length];
      const r = await client({ url }).get("users/me", { headers: { "X-Forwarded-For": `10.0.0.${i}` } });
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.body).toMatchObject({ type: "RATE_LIMITED", code: 1429 });
        expect(r.headers.get("x-rate-limit-limit")).toBe("8");
      }
    }
    // answered (401: no token) until the budget of 8 was spent — the harness's own start-up
    // probes count too — then refused every time, whatever X-Forwarded-For said
    const first429 = statuses.indexOf(429);
    expect(statuses[0]).toBe(401);
    expect(first429).toBeGreaterThan(0);
    expect(first429).toBeLessThanOrEqual(8);
    expect(statuses.slice(0, first429).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
    // operational endpoints are not rate limited (probes must always answer)
    expect((await client(shop).get("/health")).status).toBe(200);
  });
});

describe("login throttling (cluster, Redis-backed)", () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await startShop({ shape: "cluster", nodes: [["api"], ["users"]], env: { LOGIN_RATE_LIMIT_MAX: "3" } });
  });
  afterAll(() => shop?.stop());

  it("refuses a client that failed too often on an account, even with the right password", async () => {
    const c = await newCustomer(shop); // its successful login clears this client's count on the account
    const http = client(shop);
    for (let i = 0; i < 3; i++) expect((await http.post("auth/login", { username: c.username, password: "wrong-password" })).status).toBe(401);
    const locked = await http.post("auth/login", { username: c.username, password: c.password });
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ type: "LOGIN_RATE_LIMITED", code: 10010 });
    expect(locked.body.data.retryAfter).toBeGreaterThan(0);
    // another account from the same client is not locked by this one
    const d = await newCustomer(shop);
    expect((await http.post("auth/login", { username: d.username, password: d.password })).status).toBe(200);
  });

  it("limits one client trying many accounts", async () => {
    const http = client(shop);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push((await http.post("auth/login", { username: `nobody_${crypto.randomBytes(3).toString("hex")}`, password: "whatever-123" })).status);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(15);
  });
});

describe("gateway behaviour (embedded)", () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await startShop({ shape: "embedded", env: { CORS_ORIGINS: "https://shop.example" } });
  });
  afterAll(() => shop?.stop());

  it("answers CORS preflight for the configured origin only", async () => {
    const ok = await fetch(`${shop.url}/api/v1/auth/login`, {
      method: "OPTIONS",
      headers: { Origin: "https://shop.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,authorization" },
    });
    expect(ok.status).toBeLessThan(300);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(ok.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const other = await fetch(`${shop.url}/api/v1/auth/login`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(other.headers.get("access-control-allow-origin")).not.toBe("https://evil.example");
  });

  it("masks internal errors: 500 INTERNAL_ERROR, no message, stack or SQL; the log has the details and request id", async () => {
    const broker = shop.brokers[0];
    broker.createService({
      name: "boom",
      settings: { rest: "/" },
      actions: {
        fail: {
          rest: "GET /boom",
          auth: false,
          handler() {
            throw new Error("ER_BAD_FIELD: SELECT password_hash FROM users WHERE 1=1");
          },
        },
        client: {
          rest: "GET /boom/typo",
          auth: false,
          handler() {
            const e = new Error("internal detail") as Error & { code: number };
            e.code = 404;
            throw e;
          },
        },
      },
    } as never);
    const http = client(shop);
    await waitFor(async () => (await http.get("boom")).status !== 404, { what: "boom route" });
    const api = broker.getLocalService("api") as unknown as { logger: { error: (...a: unknown[]) => void } };
    const spy = jest.spyOn(api.logger, "error");
    const r = await http.get("boom", { headers: { "X-Request-Id": "trace-me-12345" } });
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ code: 1500, type: "INTERNAL_ERROR", message: "internal error", data: {}, traceId: "trace-me-12345" });
    expect(r.text).not.toMatch(/SELECT|password|stack|at /);
    expect(spy.mock.calls.some((c) => String(c[0]).includes("trace-me-12345"))).toBe(true);
    // a plain error carrying a 4xx code still does not leak its message
    const t = await http.get("boom/typo");
    expect(t.status).toBe(404);
    expect(t.body.message).not.toContain("internal detail");
    spy.mockRestore();
  });

  it("bad Idempotency-Key headers are a 400", async () => {
    const r = await client(shop).post("auth/login", { username: "x", password: "y" }, { headers: { "Idempotency-Key": "bad key with spaces" } });
    expect(r.status).toBe(400);
  });
});

describe("readiness names the failing dependency", () => {
  const brokers: ServiceBroker[] = [];
  const envs: Record<string, string>[] = [];
  afterAll(async () => {
    for (const b of brokers) await b.stop().catch(() => undefined);
    for (const env of envs) await cleanupNamespace(env);
  });

  async function gateway(extra: Record<string, string>) {
    const id = crypto.randomBytes(4).toString("hex");
    const env = { ...testEnv("cluster", id), SERVICES: "api", ...extra };
    envs.push(env);
    const { broker } = createNode(parseConfig({ ...process.env, ...env, NODE_ID: `ready-${id}` }));
    brokers.push(broker);
    await broker.start();
    const api = broker.getLocalService("api") as unknown as { server: { address(): AddressInfo } };
    return client({ url: `http://127.0.0.1:${api.server.address().port}` });
  }

  it("503 with the database named when MySQL is unreachable", async () => {
    const http = await gateway({ DATABASE_URL: "mysql://root@127.0.0.1:1/mall_nowhere" });
    const r = await http.get("/ready");
    expect(r.status).toBe(503);
    expect(r.body.type).toBe("NOT_READY");
    expect(r.body.message).toMatch(/^not ready: .*database/);
    expect(r.body.data.checks.database).toMatch(/^down/);
    expect((await http.get("/health")).status).toBe(200);
  });

  it("the failing part is listed in the readiness body", async () => {
    const http = await gateway({ REDIS_URL: "redis://127.0.0.1:1" });
    const r = await http.get("/ready");
    expect(r.status).toBe(503);
    expect(r.body.data.checks.redis).toMatch(/^down/);
    expect(r.body.data.checks.transport).toBe("ok");
  });
});
