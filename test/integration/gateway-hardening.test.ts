/**
 * What the gateway answers outside the happy path: security headers on every response, requests
 * Node's parser refuses, the API docs under a strict CSP, metrics kept off the public port,
 * readiness that is cheap and limited, and retryable failures that stay 503s.
 */
import net from "node:net";
import type { AddressInfo } from "node:net";
import { retryableError } from "../../services/shared/errors";
import { Shop, client, startShop } from "../helpers/shop";

/** Send raw bytes and read the whole answer (the server closes the connection). */
function rawRequest(url: string, bytes: Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(Number(port), hostname, () => sock.write(bytes));
    sock.on("data", (c) => chunks.push(c));
    sock.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    sock.on("error", reject);
    sock.setTimeout(5000, () => sock.destroy(new Error("no answer")));
  });
}

function parseRaw(raw: string) {
  const [head, ...rest] = raw.split("\r\n\r\n");
  const [status, ...lines] = head.split("\r\n");
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  return { status: Number(status.split(" ")[1]), headers, body: JSON.parse(rest.join("\r\n\r\n")) };
}

describe("gateway hardening (embedded)", () => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let flakyCalls = 0;
  beforeAll(async () => {
    shop = await startShop({ shape: "embedded", env: { METRICS_PORT: "0" } });
    http = client(shop);
    shop.brokers[0].createService({
      name: "flaky",
      settings: { rest: "/" },
      actions: {
        down: {
          rest: "GET /flaky",
          auth: false,
          handler() {
            flakyCalls++;
            throw retryableError("dependency is down");
          },
        },
      },
    });
    await shop.brokers[0].waitForServices(["flaky"]);
    const { waitFor } = await import("../helpers/shop");
    await waitFor(async () => (await http.get("flaky")).status !== 404, { what: "flaky route" });
  });
  afterAll(() => shop?.stop());

  it("puts security headers on API answers, errors and the docs", async () => {
    for (const r of [await http.get("products"), await http.get("no/such/route"), await http.get("/health"), await http.get("/api/docs")]) {
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("referrer-policy")).toBe("no-referrer");
      expect(r.headers.get("x-frame-options")).toBe("DENY");
      const csp = r.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("upgrade-insecure-requests");
      expect(r.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    }
  });

  it("serves the API docs without inline script, so they work under the CSP", async () => {
    const page = await http.get("/api/docs");
    expect(page.status).toBe(200);
    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/api\/docs\/[a-z.-]+"/);
      expect(body.trim()).toBe("");
      const src = /src="([^"]+)"/.exec(attrs)![1];
      const asset = await http.get(src);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(/javascript/);
    }
    expect((await http.get("/api/docs/init.js")).text).toContain("/api/openapi.json");
  });

  it("answers 404 for an unknown docs asset, not a validation error", async () => {
    for (const p of ["/api/docs/nothing.js", "/api/docs/..%2Fpackage.json", "/api/docs/swagger-ui.css.map"]) {
      const r = await http.get(p);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ type: "NOT_FOUND", code: 1404 });
    }
    expect((await http.get("/api/docs/swagger-ui.css")).status).toBe(200);
  });

  it("keeps metrics off the public port and serves them on METRICS_PORT", async () => {
    expect((await http.get("/metrics")).status).toBe(404);
    const reporter = (shop.brokers[0] as unknown as { metrics: { reporter: { server?: { address(): AddressInfo } }[] } }).metrics.reporter[0];
    const port = reporter.server!.address().port;
    expect(port).not.toBe(Number(new URL(shop.url).port));
    const m = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toContain("moleculer_request_total");
  });

  it("counts every HTTP request in the request metrics (count and histogram alike)", async () => {
    const { port } = (shop.brokers[0] as unknown as { metrics: { reporter: { server: { address(): AddressInfo } }[] } }).metrics.reporter[0].server.address();
    const rest = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const sum = (name: string) =>
        text
          .split("\n")
          .filter((l) => l.startsWith(`${name}{`) && l.includes('action="api.rest"') && l.includes('type="local"'))
          .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
      return { total: sum("moleculer_request_total"), timed: sum("moleculer_request_time_count"), active: sum("moleculer_request_active") };
    };
    const before = await rest();
    await Promise.all(Array.from({ length: 25 }, () => http.get("/health")));
    const after = await rest();
    expect(after.total - before.total).toBe(25);
    expect(after.timed - before.timed).toBe(25);
    expect(after.active).toBe(0);
  });

  it("asks moleculer-web for its per-request log lines only when debug lines are kept", () => {
    // the test shop logs at "fatal": formatting a line per request for nobody is skipped
    expect((shop.brokers[0].getLocalService("api")!.settings as Record<string, unknown>).logRequest).toBeNull();
    expect((shop.brokers[0].getLocalService("api")!.settings as Record<string, unknown>).logResponse).toBeNull();
  });

  it("answers oversized headers with a 431 envelope and a request id", async () => {
    const { port } = new URL(shop.url);
    const raw = await rawRequest(shop.url, Buffer.from(`GET /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`));
    const r = parseRaw(raw);
    expect(r.status).toBe(431);
    expect(r.body).toMatchObject({ code: 1431, type: "HEADERS_TOO_LARGE" });
    expect(r.headers["x-request-id"]).toBe(r.body.traceId);
    expect(r.headers["content-type"]).toMatch(/application\/json/);
  });

  it("answers a request line Node refuses (raw non-ASCII bytes in the URL) with a 400 envelope", async () => {
    const raw = await rawRequest(shop.url, Buffer.concat([Buffer.from("GET /api/v1/products?q="), Buffer.from([0xe8, 0x8c, 0xb6, 0x7f]), Buffer.from(" HTTP/1.1\r\nHost: x\r\n\r\n")]));
    const r = parseRaw(raw);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 1400, type: "BAD_REQUEST" });
    expect(r.headers["x-request-id"]).toBe(r.body.traceId);
  });

  it("keeps a retryable failure a 503 after the broker's retries, instead of re-running the request into a 404", async () => {
    flakyCalls = 0;
    const r = await http.get("flaky");
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ type: "SERVICE_UNAVAILABLE", data: { retryable: true } });
    // the call itself was retried (1 + 3 attempts); the HTTP request was handled once
    expect(flakyCalls).toBe(4);
  });

  it("limits readiness per client while liveness stays unlimited", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 610; i++) statuses.push((await http.get("/ready")).status);
    expect(statuses.slice(0, 550).filter((s) => s !== 200)).toEqual([]);
    expect(statuses.slice(-5).every((s) => s === 429)).toBe(true);
    for (let i = 0; i < 50; i++) expect((await http.get("/health")).status).toBe(200);
  });
});
