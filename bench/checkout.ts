/**
 * `npm run bench:checkout`: many buyers place orders through the gateway of a cluster-shape shop
 * (one OS process per node group over NATS, JetStream, MariaDB and Redis, like the crash test),
 * each `POST /orders` with its own Idempotency-Key; then every order is paid from the wallet and
 * the books are checked: all orders PAID, every reservation committed, and per SKU the committed
 * stock equals the ordered quantities. Figures go to bench/RESULTS.md ("## Checkout").
 *
 * Environment: BENCH_DURATION (s, default 20), BENCH_CONNECTIONS (default 32), BENCH_BUYERS
 * (default 100), BENCH_SKUS (default 20), BENCH_WARMUP (s, default 3), BENCH_WRITE=false (do not
 * touch RESULTS.md), BENCH_PROFILE=<dir> (V8 CPU profiles of every node), BENCH_TOPOLOGY
 * ("4" = gateway+users+catalog+cart | inventory | orders | payments, the default;
 *  "2" = gateway+users+catalog+cart | inventory+orders+payments).
 * BENCH_MARKETING=1: marketing runs with orders, and after the plain measurement a second one of
 * the same length places every order with a promotion (满减 on the category), a coupon of the
 * buyer's and 100 points; both figures go to "## Checkout with marketing" (BENCH_COUPONS: coupons
 * claimed per buyer beforehand, default 40).
 */
import crypto from "node:crypto";
import os from "node:os";
import { QueryTypes } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../services/shared/db";
import { Buyer, newBuyer, stockedProduct } from "../test/helpers/checkout";
import { NodeSpec, ProcessCluster } from "../test/helpers/processes";
import { loginAdmin, waitFor } from "../test/helpers/shop";
import { machine, writeSection } from "./lib";

const DURATION_S = Number(process.env.BENCH_DURATION ?? 20);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BUYERS = Number(process.env.BENCH_BUYERS ?? 100);
const SKUS = Number(process.env.BENCH_SKUS ?? 20);
const TOPOLOGY = process.env.BENCH_TOPOLOGY ?? "4";
const MARKETING = process.env.BENCH_MARKETING === "1";
const COUPONS_PER_BUYER = Number(process.env.BENCH_COUPONS ?? 40);
const STOCK_PER_SKU = 1_000_000;
const PRICE = 12_000; // ≥ 99 yuan: no shipping fee, so payable = price × quantity

const TOPOLOGIES: Record<string, NodeSpec[]> = {
  "4": [
    { name: "gateway", services: ["api", "users", "catalog", "cart"] },
    { name: "inventory", services: ["inventory"] },
    { name: "orders", services: ["orders"] },
    { name: "payments", services: ["payments"] },
  ],
  "2": [
    { name: "gateway", services: ["api", "users", "catalog", "cart"] },
    { name: "backend", services: ["inventory", "orders", "payments"] },
  ],
};

/** What the profiles showed (BENCH_PROFILE, 2026-11-21); kept with the figures it explains. */
const ANALYSIS = `What dominates (V8 CPU profiles of every node with \`BENCH_PROFILE=/tmp/prof\`, taken before the perf-checkout round): the run is CPU-bound — the two cores are saturated by the node processes, MariaDB, NATS and the load driver, so latency under load is queueing (Little's law: 32 connections ÷ throughput), while one request alone takes 16–30 ms. In every node the largest share was the database client path: Sequelize query building and instance handling ≈ 20–27 % of busy time, and socket writes to MariaDB (one syscall per statement) ≈ 15–22 %; NATS request/response serialisation and moleculer's call path follow. An order still costs ≈ 17 SQL statements (reservation: per line one UPDATE — a second UPDATE and a locked re-read only when available falls to the low-stock threshold or stock runs short — and three INSERTs, no pre-check; order: five statements in one transaction; the relay) and about five broker messages, so 500 orders/s on 2 cores still needs ≈ 2.5× less CPU per order: sending the order transaction's statements in one round trip, the reservation's three INSERTs in one round trip as well, and fewer cross-node hops.`;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

async function pool<T>(n: number, count: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

interface Placed {
  orderNo: string;
  buyer: Buyer;
  skuId: number;
  quantity: number;
}

/** `connections` loops placing orders until `until`; latencies of successful 201s in ms. */
type Extra = (buyer: Buyer) => Record<string, unknown>;

async function drive(url: string, buyers: Buyer[], skuIds: number[], until: number, connections: number, extra: Extra = () => ({})) {
  const placed: Placed[] = [];
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      let i = c;
      while (Date.now() < until) {
        const buyer = buyers[i % buyers.length];
        const skuId = skuIds[crypto.randomInt(skuIds.length)];
        const quantity = 1 + (i % 3);
        i += connections;
        const t0 = process.hrtime.bigint();
        try {
          const r = await fetch(`${url}/api/v1/orders`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${buyer.token}`, "idempotency-key": crypto.randomUUID() },
            body: JSON.stringify({ addressId: buyer.addressId, items: [{ skuId, quantity }], ...extra(buyer) }),
          });
          const body = (await r.json()) as { data?: { orderNo: string }; type?: string };
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          if (r.status === 201 && body.data) {
            latencies.push(ms);
            placed.push({ orderNo: body.data.orderNo, buyer, skuId, quantity });
          } else failures.set(`${r.status} ${body.type ?? ""}`, (failures.get(`${r.status} ${body.type ?? ""}`) ?? 0) + 1);
        } catch (err) {
          failures.set(String((err as Error).message), (failures.get(String((err as Error).message)) ?? 0) + 1);
        }
      }
    }),
  );
  return { placed, latencies, failures };
}

async function mysqlStatus(db: import("sequelize").Sequelize): Promise<Record<string, number>> {
  const rows = await db.query<{ Variable_name: string; Value: string }>(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_commit', 'Com_insert', 'Com_update', 'Com_select')",
    { type: QueryTypes.SELECT },
  );
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}

/** Set up a promotion, coupons and points, then measure checkouts that use all three. */
async function marketingRun(url: string, admin: string, buyers: Buyer[], skus: { productId: number; skuId: number }[], db: import("sequelize").Sequelize) {
  const post = async (path: string, body: unknown, token: string) => {
    const r = await fetch(`${url}/api/v1/${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    const b = (await r.json()) as { data?: any; type?: string };
    if (r.status >= 300) throw new Error(`${path}: ${r.status} ${b.type}`);
    return b.data;
  };
  const [{ category_id: categoryId }] = await db.query<{ category_id: number }>("SELECT category_id FROM products WHERE id = ?", { replacements: [skus[0].productId], type: QueryTypes.SELECT });
  const window = { validFrom: new Date(Date.now() - 60_000).toISOString(), validTo: new Date(Date.now() + 86_400_000).toISOString() };
  await post("admin/promotions", { name: "Bench 满减", type: "FULL_REDUCTION", rules: [{ threshold: 10_000, off: 1_000 }], startAt: window.validFrom, endAt: window.validTo, scope: { categoryIds: [Number(categoryId)] } }, admin);
  const tpl = await post("admin/coupon-templates", { name: "Bench coupon", type: "FIXED", value: 500, threshold: 0, totalQuantity: 1_000_000, perUserLimit: 1_000, ...window }, admin);
  console.log(`granting points and claiming ${COUPONS_PER_BUYER} coupons for each of ${buyers.length} buyers…`);
  const coupons = new Map<number, number[]>();
  await pool(8, buyers.length, async (i) => {
    const b = buyers[i];
    await post(`admin/users/${b.id}/points`, { points: 100_000_000, reason: "bench" }, admin);
    const mine: number[] = [];
    for (let k = 0; k < COUPONS_PER_BUYER; k++) mine.push((await post(`coupon-templates/${tpl.id}/claim`, {}, b.token)).id);
    coupons.set(b.id, mine);
  });
  let withoutCoupon = 0;
  const extra: Extra = (b) => {
    const couponId = coupons.get(b.id)!.pop();
    if (couponId === undefined) withoutCoupon++;
    return { ...(couponId !== undefined ? { couponId } : {}), usePoints: 100 };
  };
  console.log(`measuring ${DURATION_S} s with promotion + coupon + points…`);
  const t0 = Date.now();
  const run = await drive(url, buyers, skus.map((s) => s.skuId), t0 + DURATION_S * 1000, CONNECTIONS, extra);
  const elapsed = (Date.now() - t0) / 1000;
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const rate = run.placed.length / elapsed;
  console.log(`with marketing: ${run.placed.length} orders, ${rate.toFixed(0)} orders/s, p99 ${pct(sorted, 99).toFixed(1)} ms`);
  if (run.failures.size) console.log("failures:", Object.fromEntries(run.failures));
  return { placed: run.placed, rate, p50: pct(sorted, 50), p99: pct(sorted, 99), withoutCoupon, failed: [...run.failures.values()].reduce((a, b) => a + b, 0) };
}

async function main() {
  const base = TOPOLOGIES[TOPOLOGY];
  if (!base) throw new Error(`BENCH_TOPOLOGY must be one of ${Object.keys(TOPOLOGIES).join(", ")}`);
  const specs = MARKETING ? base.map((n) => (n.services.includes("orders") ? { ...n, services: [...n.services, "marketing"] } : n)) : base;
  console.log(`starting ${specs.length} node processes…`);
  // BENCH_PROFILE=<dir>: every node writes a V8 CPU profile there when it stops
  const profile: Record<string, string> = process.env.BENCH_PROFILE ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {};
  const cluster = await ProcessCluster.start(specs, { LOG_LEVEL: "error", RATE_LIMIT_ENABLED: "false", REQUEST_TIMEOUT: "30000", ...profile });
  const db = acquireSequelize(cluster.databaseUrl);
  try {
    const admin = await loginAdmin(cluster);
    const skus = await stockedProduct(
      cluster,
      admin,
      Array.from({ length: SKUS }, () => ({ price: PRICE, stock: STOCK_PER_SKU })),
    );
    const skuIds = skus.map((s) => s.skuId);
    console.log(`creating ${BUYERS} buyers…`);
    const buyers = await pool(8, BUYERS, () => newBuyer(cluster, { admin, wallet: 1_000_000_000 }));

    console.log(`warm-up ${WARMUP_S} s…`);
    const warm = await drive(cluster.url, buyers, skuIds, Date.now() + WARMUP_S * 1000, CONNECTIONS);
    const serial = await drive(cluster.url, buyers, skuIds, Date.now() + 5000, 1);
    const serialSorted = [...serial.latencies].sort((a, b) => a - b);
    console.log(`one connection: p50 ${pct(serialSorted, 50).toFixed(1)} ms, p99 ${pct(serialSorted, 99).toFixed(1)} ms`);

    console.log(`measuring ${DURATION_S} s with ${CONNECTIONS} connections…`);
    const load0 = os.loadavg()[0];
    const status0 = await mysqlStatus(db);
    const t0 = Date.now();
    const run = await drive(cluster.url, buyers, skuIds, t0 + DURATION_S * 1000, CONNECTIONS);
    const elapsed = (Date.now() - t0) / 1000;
    const status1 = await mysqlStatus(db);
    const perOrder = (k: string) => ((status1[k] - status0[k]) / Math.max(1, run.placed.length)).toFixed(1);
    const sorted = [...run.latencies].sort((a, b) => a - b);
    const rate = run.placed.length / elapsed;
    const p50 = pct(sorted, 50);
    const p99 = pct(sorted, 99);
    console.log(`placed ${run.placed.length} orders in ${elapsed.toFixed(1)} s: ${rate.toFixed(0)} orders/s, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    if (run.failures.size) console.log("failures:", Object.fromEntries(run.failures));

    const withMarketing = MARKETING ? await marketingRun(cluster.url, admin, buyers, skus, db) : null;

    // pay everything (warm-up orders too), then check the books
    const all = [...warm.placed, ...serial.placed, ...run.placed, ...(withMarketing?.placed ?? [])];
    console.log(`paying ${all.length} orders from the wallet…`);
    const payT0 = Date.now();
    const payFailures = new Map<string, number>();
    await pool(CONNECTIONS, all.length, async (i) => {
      const o = all[i];
      const r = await fetch(`${cluster.url}/api/v1/payments`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${o.buyer.token}` },
        body: JSON.stringify({ orderNo: o.orderNo, channel: "wallet" }),
      });
      if (r.status !== 201) {
        const b = (await r.json()) as { type?: string };
        payFailures.set(`${r.status} ${b.type}`, (payFailures.get(`${r.status} ${b.type}`) ?? 0) + 1);
      }
    });
    const payRate = all.length / ((Date.now() - payT0) / 1000);
    const count = async (sql: string, rep: unknown[] = []) =>
      Number(Object.values((await db.query<Record<string, unknown>>(sql, { replacements: rep, type: QueryTypes.SELECT }))[0])[0]);
    await waitFor(async () => (await count("SELECT COUNT(*) FROM orders WHERE status = 'PAID'")) === all.length, {
      timeout: 300_000,
      interval: 500,
      what: "all orders PAID",
    });
    await waitFor(async () => (await count("SELECT COUNT(*) FROM reservations WHERE status = 'COMMITTED'")) === all.length, {
      timeout: 300_000,
      interval: 500,
      what: "all reservations committed",
    });
    const settledS = (Date.now() - payT0) / 1000;

    // consistency: per SKU, ordered quantity (orders × quantities) = committed stock
    const ordered = new Map<number, number>();
    for (const o of all) ordered.set(o.skuId, (ordered.get(o.skuId) ?? 0) + o.quantity);
    const stock = await db.query<{ sku_id: number; on_hand: number; reserved: number }>(
      `SELECT sku_id, on_hand, reserved FROM stock WHERE sku_id IN (${skuIds.map(() => "?").join(",")})`,
      { replacements: skuIds, type: QueryTypes.SELECT },
    );
    const lines = await db.query<{ sku_id: number; q: number }>(
      "SELECT sku_id, SUM(quantity) AS q FROM order_lines WHERE order_no IN (SELECT order_no FROM orders WHERE status = 'PAID') GROUP BY sku_id",
      { type: QueryTypes.SELECT },
    );
    const inDb = new Map(lines.map((l) => [Number(l.sku_id), Number(l.q)]));
    let consistent = true;
    let committedTotal = 0;
    let orderedTotal = 0;
    for (const s of stock) {
      const committed = STOCK_PER_SKU - Number(s.on_hand);
      const want = ordered.get(Number(s.sku_id)) ?? 0;
      committedTotal += committed;
      orderedTotal += want;
      if (committed !== want || Number(s.reserved) !== 0 || (inDb.get(Number(s.sku_id)) ?? 0) !== want) {
        consistent = false;
        console.log(`SKU ${s.sku_id}: ordered ${want}, order lines ${inDb.get(Number(s.sku_id))}, committed ${committed}, reserved ${s.reserved}`);
      }
    }
    const commitsPerRef = await count(
      "SELECT COUNT(*) FROM (SELECT reference FROM stock_movements WHERE type = 'commit' GROUP BY reference, sku_id HAVING COUNT(*) > 1) d",
    );
    consistent &&= commitsPerRef === 0;
    console.log(`consistency: ${consistent ? "OK" : "BROKEN"} — ${all.length} orders, ordered ${orderedTotal} units, committed ${committedTotal}`);

    const target = rate >= 500 && p99 <= 100;
    const md = [
      `Command: \`npm run bench:checkout\` (BENCH_DURATION=${DURATION_S} BENCH_CONNECTIONS=${CONNECTIONS} BENCH_BUYERS=${BUYERS} BENCH_SKUS=${SKUS} BENCH_TOPOLOGY=${TOPOLOGY}; ${WARMUP_S} s warm-up not counted).`,
      `Machine: ${machine()}; load average ${load0.toFixed(1)} when the measurement began. Everything on the same 2 cores: the load driver (Node fetch), ${specs.length} node processes (${specs.map((s) => s.services.join("+")).join(" | ")}), MariaDB, Redis, NATS JetStream. Rate limiting off.`,
      `Each request: \`POST /api/v1/orders\` with a fresh Idempotency-Key, one line (random SKU of ${SKUS}, quantity 1–3), ${BUYERS} buyers — price snapshot from catalog, address from users, reservation in inventory, order + lines + timeline + outbox row in one transaction, \`order.created\` relayed to JetStream.`,
      "",
      "| measure | value |",
      "|---|---|",
      `| orders placed (measured) | ${run.placed.length} in ${elapsed.toFixed(1)} s |`,
      `| **orders/s** | **${rate.toFixed(0)}** |`,
      `| p50 \`POST /orders\` | ${p50.toFixed(1)} ms |`,
      `| **p99 \`POST /orders\`** | **${p99.toFixed(1)} ms** |`,
      `| one connection at a time (no queueing): p50 / p99 | ${pct(serialSorted, 50).toFixed(1)} ms / ${pct(serialSorted, 99).toFixed(1)} ms |`,
      `| MariaDB statements per placed order (server-wide counters) | ${perOrder("Questions")} (${perOrder("Com_commit")} commits, ${perOrder("Com_insert")} inserts, ${perOrder("Com_update")} updates, ${perOrder("Com_select")} selects) |`,
      `| failed requests | ${[...run.failures.values()].reduce((a, b) => a + b, 0)}${run.failures.size ? ` (${[...run.failures].map(([k, v]) => `${k}: ${v}`).join(", ")})` : ""} |`,
      `| paid afterwards (wallet, ${CONNECTIONS} at a time) | ${all.length} orders at ${payRate.toFixed(0)} payments/s; all PAID and committed ${settledS.toFixed(1)} s after the first payment${payFailures.size ? `; payment failures: ${[...payFailures].map(([k, v]) => `${k}: ${v}`).join(", ")}` : ""} |`,
      `| consistency (per SKU: Σ orders × quantities = committed stock, nothing left reserved, each reservation committed once) | **${consistent ? "OK" : "BROKEN"}** — ${orderedTotal} units ordered, ${committedTotal} committed |`,
      "",
      `Target ≥ 500 orders/s with p99 ≤ 100 ms: **${target ? "met" : `not met (${rate < 500 ? `${((1 - rate / 500) * 100).toFixed(0)} % short on throughput` : "throughput met"}${p99 > 100 ? `, p99 ${(p99 / 100).toFixed(1)}× the budget` : ""})`}**. Run on ${new Date().toISOString().slice(0, 10)}.`,
      "",
      ANALYSIS,
    ].join("\n");
    console.log("\n" + md);
    if (withMarketing) {
      const mdm = [
        `Command: \`BENCH_MARKETING=1 npm run bench:checkout\` (BENCH_DURATION=${DURATION_S} BENCH_CONNECTIONS=${CONNECTIONS} BENCH_BUYERS=${BUYERS} BENCH_SKUS=${SKUS} BENCH_TOPOLOGY=${TOPOLOGY}).`,
        `Machine: ${machine()}. Same cluster and run: ${specs.map((n) => n.services.join("+")).join(" | ")}; the plain measurement first, then the marketing one, ${DURATION_S} s each.`,
        "Marketing orders: a 满减 promotion on the products' category (every order reaches it), one of the buyer's own coupons (FIXED 5 yuan) and 100 points each — price from the offers, coupon locked, points frozen, and on payment coupon USED, points spent and earned.",
        "",
        "| checkout | orders/s | p50 | p99 |",
        "|---|---|---|---|",
        `| plain (promotions looked up, none in scope) | ${rate.toFixed(0)} | ${p50.toFixed(1)} ms | ${p99.toFixed(1)} ms |`,
        `| promotion + coupon + points | ${withMarketing.rate.toFixed(0)} | ${withMarketing.p50.toFixed(1)} ms | ${withMarketing.p99.toFixed(1)} ms |`,
        "",
        `Marketing costs **${((1 - withMarketing.rate / rate) * 100).toFixed(0)} %** of the plain throughput (target ≤ 20 %). Orders without a coupon left to use: ${withMarketing.withoutCoupon}; failed requests: ${withMarketing.failed}. Consistency of the whole run (both measurements paid and checked): **${consistent ? "OK" : "BROKEN"}**. Run on ${new Date().toISOString().slice(0, 10)}.`,
      ].join("\n");
      console.log("\n" + mdm);
      if (process.env.BENCH_WRITE !== "false") writeSection("Checkout with marketing", mdm);
    } else if (process.env.BENCH_WRITE !== "false") writeSection("Checkout", md);
    if (!consistent) process.exitCode = 1;
  } finally {
    await releaseSequelize(cluster.databaseUrl);
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
