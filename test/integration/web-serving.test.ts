/**
 * The gateway serves the built web apps (services/api/web-apps.ts): the storefront at `/`, the
 * admin console at `/admin`, with long-lived caching of hashed assets, revalidated index.html,
 * compression and index.html for deep links — and never in place of the API, the docs or the
 * ops endpoints. A small stand-in bundle keeps this test independent of a Vite build.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import http from "node:http";
import { Shop, startShop } from "../helpers/shop";

const SCRIPT = `console.log(${JSON.stringify("storefront ".repeat(400))});\n`;
let dist: string;
let shop: Shop;

function write(rel: string, text: string) {
  const file = path.join(dist, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** A raw GET (fetch would decompress and hide Content-Encoding). */
function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${shop.url}${p}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
  });
}

beforeAll(async () => {
  dist = fs.mkdtempSync(path.join(os.tmpdir(), "mall-web-"));
  write("storefront/index.html", `<!doctype html><html><head><script type="module" src="/assets/index-Ab12Cd34.js"></script></head><body><div id="root">STOREFRONT</div></body></html>`);
  write("storefront/assets/index-Ab12Cd34.js", SCRIPT);
  write("storefront/favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
  shop = await startShop({ shape: "embedded", env: { WEB_DIST_DIR: dist } });
}, 60_000);

afterAll(async () => {
  await shop?.stop();
  fs.rmSync(dist, { recursive: true, force: true });
});

it("index.html at / with no-cache, the security headers and a request id", async () => {
  const r = await get("/");
  expect(r.status).toBe(200);
  expect(r.headers["content-type"]).toMatch(/^text\/html/);
  expect(r.headers["cache-control"]).toBe("no-cache");
  expect(r.headers["content-security-policy"]).toContain("script-src 'self'");
  expect(r.headers["x-content-type-options"]).toBe("nosniff");
  expect(r.headers["x-request-id"]).toBeTruthy();
  expect(r.body.toString()).toContain("STOREFRONT");
  // revalidation costs a 304, not the page
  const again = await get("/", { "if-none-match": String(r.headers.etag) });
  expect(again.status).toBe(304);
});

it("hashed assets are immutable for a year and compressed for clients that accept it", async () => {
  const plain = await get("/assets/index-Ab12Cd34.js");
  expect(plain.status).toBe(200);
  expect(plain.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect(plain.headers["content-type"]).toMatch(/javascript/);
  expect(plain.headers["content-encoding"]).toBeUndefined();
  expect(plain.body.toString()).toBe(SCRIPT);

  const gz = await get("/assets/index-Ab12Cd34.js", { "accept-encoding": "gzip" });
  expect(gz.headers["content-encoding"]).toBe("gzip");
  expect(gz.body.length).toBeLessThan(SCRIPT.length / 10);
  expect(zlib.gunzipSync(gz.body).toString()).toBe(SCRIPT);
  // other static files: cached, but not forever (their names carry no hash)
  expect((await get("/favicon.svg")).headers["cache-control"]).toBe("public, max-age=3600");
});

it("storefront deep links answer index.html; a missing asset is a 404, not HTML", async () => {
  for (const p of ["/products/42", "/search?q=%E8%A5%BF%E7%BA%A2%E6%9F%BF", "/cart", "/orders/2026010112345678", "/seckill/7", "/account/addresses"]) {
    const r = await get(p);
    expect([p, r.status, r.headers["cache-control"]]).toEqual([p, 200, "no-cache"]);
    expect(r.body.toString()).toContain("STOREFRONT");
  }
  for (const p of ["/assets/gone-12345678.js", "/missing.png"]) {
    const r = await get(p);
    expect([p, r.status]).toEqual([p, 404]);
    expect(JSON.parse(r.body.toString())).toMatchObject({ type: "NOT_FOUND" });
  }
});

it("never shadows the API, the docs or the ops endpoints", async () => {
  const health = await get("/health");
  expect(health.status).toBe(200);
  expect(JSON.parse(health.body.toString()).data.status).toBe("ok");
  expect((await get("/ready")).status).toBe(200);
  const doc = await get("/api/openapi.json");
  expect(JSON.parse(doc.body.toString()).openapi).toBe("3.0.3");
  expect((await get("/api/docs")).body.toString()).toContain("swagger-ui");
  const products = await get("/api/v1/products");
  expect(products.status).toBe(200);
  expect(JSON.parse(products.body.toString()).code).toBe(0);
  // an unknown API path stays an API 404 envelope, not the storefront
  const unknown = await get("/api/v1/no-such-thing");
  expect(unknown.status).toBe(404);
  expect(JSON.parse(unknown.body.toString()).type).toBe("NOT_FOUND");
  expect((await get("/api")).headers["content-type"]).toMatch(/json/);
  expect((await get("/metrics")).body.toString()).not.toContain("STOREFRONT");
});

it("/admin is a 404 until the console is built, then serves it with its own deep links", async () => {
  const before = await get("/admin");
  expect(before.status).toBe(404);
  expect((await get("/admin/orders")).status).toBe(404);

  write("admin/index.html", `<!doctype html><html><body>ADMIN</body></html>`);
  write("admin/assets/main-Zz99Yy88.js", "console.log('admin');\n");
  try {
    for (const p of ["/admin", "/admin/", "/admin/orders/2026010112345678", "/admin/products?page=2"]) {
      const r = await get(p);
      expect([p, r.status, r.headers["cache-control"]]).toEqual([p, 200, "no-cache"]);
      expect(r.body.toString()).toContain("ADMIN");
    }
    expect((await get("/admin/assets/main-Zz99Yy88.js")).headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    // the console's API stays the API
    expect(JSON.parse((await get("/api/v1/admin/orders")).body.toString()).type).toBe("UNAUTHORIZED");
    // the storefront is unaffected
    expect((await get("/cart")).body.toString()).toContain("STOREFRONT");
  } finally {
    fs.rmSync(path.join(dist, "admin"), { recursive: true, force: true });
  }
});

it("writes are not served by the web apps", async () => {
  const r = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${shop.url}/products/1`, { method: "POST" }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    req.end();
  });
  expect(r).toBe(404);
});
