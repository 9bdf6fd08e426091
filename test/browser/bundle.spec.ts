/**
 * The storefront bundle the gateway serves: initial JavaScript within 200 KB gzip (routes load
 * their own chunks), served compressed and cacheable, and nothing of the console or a secret in it.
 */
import fs from "node:fs";
import path from "node:path";
import { measureBundle } from "../../bench/web-bundle";
import { ADMIN } from "./global-setup";
import { expect, test } from "./fixtures";

const DIR = path.resolve(__dirname, "../../web/dist/storefront");

test("initial JavaScript ≤ 200 KB gzip, the rest split per route", () => {
  const s = measureBundle(DIR);
  expect(s.initialJsGzip).toBeGreaterThan(10_000);
  expect(s.initialJsGzip).toBeLessThanOrEqual(200 * 1024);
  const chunks = fs.readdirSync(path.join(DIR, "assets")).filter((f) => f.endsWith(".js"));
  for (const page of ["Checkout", "Product", "Account", "Seckill", "OrderDetail"]) expect(chunks.some((c) => c.startsWith(`${page}-`))).toBe(true);
});

test("no admin capability or secret in the storefront bundle", () => {
  const text = fs
    .readdirSync(path.join(DIR, "assets"))
    .map((f) => fs.readFileSync(path.join(DIR, "assets", f), "utf8"))
    .join("\n");
  for (const needle of ["/api/v1/admin", "/admin/", "JWT_SECRET", "SANDBOX_SECRET", "ADMIN_PASSWORD", "PRIVATE KEY", "X-Sandbox-Signature", "notify/sandbox", ADMIN.password]) {
    expect([needle, text.includes(needle)]).toEqual([needle, false]);
  }
});

test("the gateway serves the bundle gzip-compressed with immutable caching", async ({ request }) => {
  const html = await request.get("/");
  expect(html.headers()["cache-control"]).toBe("no-cache");
  const entry = /src="(\/assets\/[^"]+\.js)"/.exec(await html.text())![1];
  const js = await request.get(entry, { headers: { "accept-encoding": "gzip" } });
  expect(js.status()).toBe(200);
  expect(js.headers()["content-encoding"]).toBe("gzip");
  expect(js.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
});
