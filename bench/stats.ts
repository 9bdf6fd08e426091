/**
 * `npm run bench:stats`: the analytics routes on a million orders (MariaDB/MySQL).
 *
 * 1. Creates a database of its own (BENCH_MYSQL_URL, default mysql://root@127.0.0.1:3306) and
 *    migrates it; seeds BENCH_ORDERS orders (default 1,000,000) over the last 365 days with 1–3
 *    lines each over 5,000 products (skewed: a few sell a lot), ~78 % paid, ~2 % of the paid
 *    refunded; multi-row INSERTs.
 * 2. Builds the rollup from them with `rebuildStats` — what the 0502 migration does for a shop
 *    that already has orders — and times it.
 * 3. Starts the shop (`bin/start.ts`, services api + users + orders, STATS_CACHE_TTL=0 so every
 *    answer is computed) and asks each question BENCH_REQUESTS times per round, one request at a
 *    time, over BENCH_ROUNDS alternating rounds; p50/p95 per question are the medians of the
 *    rounds. For comparison, the same overview answered by scanning the orders table.
 * 4. Drops the database. Results go to the "## Analytics" section of bench/RESULTS.md.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, dropDatabase, releaseSequelize } from "../services/shared/db";
import { migrate } from "../services/shared/migrator";
import { rebuildStats } from "../services/orders/stats-store";
import { dayStart, localDate, addDays } from "../services/orders/domain/stats-time";
import { machine, median, startProcess, stopProcess, writeSection } from "./lib";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MYSQL = process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
const PRODUCTS = 5_000;
const BATCH = 2_000;
const PORT = Number(process.env.BENCH_PORT ?? 3914);

let seed = 7;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
/** product ids skewed towards the low ones (a long tail) */
const product = () => 1 + Math.floor(PRODUCTS * rnd() ** 2.5);
const price = (p: number) => 990 + ((p * 7919) % 40_000);

const fmt = (d: Date) => d.toISOString().slice(0, 23).replace("T", " ");

async function seedOrders(db: Sequelize): Promise<{ paid: number; refunds: number }> {
  const end = Date.now();
  const start = end - 365 * 86_400_000;
  const step = (end - start) / ORDERS;
  let paid = 0;
  let refunds = 0;
  const address = JSON.stringify({ id: 1, name: "Bench", mobile: "13800000000", province: "Zhejiang", city: "Hangzhou", district: "Xihu", detail: "1 Road" });
  for (let i = 0; i < ORDERS; i += BATCH) {
    const orders: unknown[] = [];
    const lines: unknown[] = [];
    const after: unknown[] = [];
    for (let j = i; j < Math.min(ORDERS, i + BATCH); j++) {
      const created = new Date(start + (j + rnd()) * step);
      const no = `B${String(j).padStart(12, "0")}${crypto.randomBytes(5).toString("hex").toUpperCase()}`.slice(0, 24);
      const n = 1 + Math.floor(rnd() * rnd() * 3);
      let total = 0;
      const used = new Set<number>();
      for (let k = 0; k < n; k++) {
        let p = product();
        while (used.has(p)) p = 1 + ((p + 1) % PRODUCTS);
        used.add(p);
        const q = 1 + Math.floor(rnd() * rnd() * 4);
        const sub = price(p) * q;
        total += sub;
        lines.push(no, p * 10 + 1, p, `SKU-${p}`, `Product ${p}`, "{}", price(p), q, sub, sub);
      }
      const isPaid = rnd() < 0.78;
      const paidAt = isPaid ? new Date(created.getTime() + 30_000 + rnd() * 600_000) : null;
      const status = isPaid ? (rnd() < 0.02 ? "REFUNDED" : "COMPLETED") : rnd() < 0.9 ? "CANCELLED" : "PENDING_PAYMENT";
      if (isPaid) paid++;
      const payable = total + 1000;
      orders.push(no, 1 + (j % 50_000), status, total, payable, address, fmt(new Date(created.getTime() + 900_000)), paidAt ? fmt(paidAt) : null, fmt(created), fmt(created));
      if (status === "REFUNDED") {
        refunds++;
        const at = fmt(new Date(paidAt!.getTime() + 86_400_000 * (1 + rnd() * 5)));
        after.push(no, 1 + (j % 50_000), payable, at, at);
      }
    }
    const rows = (n: number, cols: number) => Array.from({ length: n }, () => `(${Array(cols).fill("?").join(",")})`).join(",");
    await db.transaction(async (t) => {
      await db.query(
        `INSERT INTO orders (order_no, user_id, status, source, items_total, discount, points_deduction, points_used, shipping_fee, payable, currency, address_snapshot, remark, expires_at, paid_at, created_at, updated_at) VALUES ` +
          rows(orders.length / 10, 10).replace(/\(\?,\?,\?,\?,\?,\?,\?,\?,\?,\?\)/g, "(?,?,?,'NORMAL',?,0,0,0,1000,?,'CNY',?,'',?,?,?,?)"),
        { replacements: orders, transaction: t },
      );
      await db.query(
        `INSERT INTO order_lines (order_no, sku_id, product_id, sku_code, title, attrs, unit_price, quantity, subtotal, payable) VALUES ${rows(lines.length / 10, 10)}`,
        { replacements: lines, transaction: t },
      );
      if (after.length) {
        await db.query(
          `INSERT INTO aftersales (order_no, user_id, status, reason, amount, currency, order_status_before, created_at, updated_at) VALUES ` +
            Array.from({ length: after.length / 5 }, () => "(?, ?, 'COMPLETED', 'bench', ?, 'CNY', 'PAID', ?, ?)").join(","),
          { replacements: after, transaction: t },
        );
      }
    });
    if ((i / BATCH) % 50 === 0) process.stdout.write(`\r  seeded ${i + BATCH} orders`);
  }
  process.stdout.write("\n");
  return { paid, refunds };
}

function percentile(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function main() {
  const id = crypto.randomBytes(3).toString("hex");
  const url = `${MYSQL}/mall_bench_stats_${id}`;
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "mall-bench-stats-"));
  let shop: Awaited<ReturnType<typeof startProcess>> | null = null;
  try {
    console.log(`database ${url}`);
    await migrate(url);
    const db = acquireSequelize(url);
    let t0 = Date.now();
    const seeded = await seedOrders(db);
    const seedSec = (Date.now() - t0) / 1000;
    console.log(`seeded ${ORDERS} orders (${seeded.paid} paid, ${seeded.refunds} refunded) in ${seedSec.toFixed(0)} s`);
    t0 = Date.now();
    await rebuildStats(db, { batch: 5000, onProgress: (n) => n % 100_000 === 0 && process.stdout.write(`\r  rollup ${n}`) });
    const rebuildSec = (Date.now() - t0) / 1000;
    const [sizes] = await db.query<{ t: string; n: number }>(
      "SELECT 'order_stats' AS t, COUNT(*) AS n FROM order_stats UNION ALL SELECT 'order_stats_products', COUNT(*) FROM order_stats_products UNION ALL SELECT 'order_lines', COUNT(*) FROM order_lines",
      { type: QueryTypes.SELECT, plain: false, raw: true },
    ).then((r) => [r as unknown as { t: string; n: number }[]]);
    console.log(`\nrollup built in ${rebuildSec.toFixed(0)} s: ${sizes.map((s) => `${s.t} ${s.n}`).join(", ")}`);

    // the same overview by scanning the orders table (what the rollup avoids)
    const tz = "Asia/Shanghai";
    const today = localDate(tz, Date.now());
    const scan: Record<string, number[]> = { "30 days": [], "365 days": [] };
    for (let r = 0; r < 3; r++) {
      for (const [label, days] of [["30 days", 30], ["365 days", 365]] as const) {
        const a = new Date(dayStart(tz, addDays(today, -(days - 1))));
        const b = new Date(dayStart(tz, addDays(today, 1)));
        const s = Date.now();
        await db.query(
          "SELECT (SELECT COUNT(*) FROM orders WHERE created_at >= ? AND created_at < ?) AS created, (SELECT COUNT(*) FROM orders WHERE created_at >= ? AND created_at < ? AND paid_at IS NOT NULL) AS converted, (SELECT SUM(payable) FROM orders WHERE paid_at >= ? AND paid_at < ?) AS gmv",
          { replacements: [a, b, a, b, a, b], type: QueryTypes.SELECT },
        );
        scan[label].push(Date.now() - s);
      }
    }
    await releaseSequelize(url);
    if (process.env.BENCH_KEEP_DB) {
      console.log(`kept ${url} (BENCH_KEEP_DB): drop it yourself`);
      return;
    }

    shop = await startProcess(
      "node",
      ["--import", "tsx", "bin/start.ts"],
      {
        PORT: String(PORT), HOST: "127.0.0.1", DATA_DIR: data, DATABASE_URL: url, TRANSPORTER: "", REDIS_URL: "", CHANNELS_URL: "",
        SERVICES: "api,users,orders", EXPECTED_SERVICES: "users,orders", RATE_LIMIT_ENABLED: "false", LOG_LEVEL: "warn", METRICS_PORT: "off",
        SEED_DEMO: "false", MIGRATE_ON_START: "false", STATS_CACHE_TTL: "0", ADMIN_USERNAME: "admin", ADMIN_PASSWORD: "bench-admin-pass-1",
      },
      `http://127.0.0.1:${PORT}/ready`,
      120_000,
    );
    const base = `http://127.0.0.1:${PORT}/api/v1`;
    const login = (await (await fetch(`${base}/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: "bench-admin-pass-1" }) })).json()) as { data: { accessToken: string } };
    const token = login.data.accessToken as string;

    const cases: [string, string][] = [
      ["overview, today", "overview"],
      ["overview, 30 days", `overview?from=${addDays(today, -29)}`],
      ["overview, 365 days", `overview?from=${addDays(today, -364)}`],
      ["overview, 365 days, Asia/Kolkata (+05:30)", `overview?from=${addDays(today, -364)}&tz=Asia/Kolkata`],
      ["sales per day, 30 days", `sales?from=${addDays(today, -29)}`],
      ["sales per day, 365 days", `sales?from=${addDays(today, -364)}`],
      ["sales per hour, 7 days", `sales?interval=hour&from=${addDays(today, -6)}`],
      ["sales per hour, 31 days", `sales?interval=hour&from=${addDays(today, -30)}`],
      ["top 10 products, today", "top-products"],
      ["top 10 products, 30 days", `top-products?from=${addDays(today, -29)}`],
      ["top 10 products, 365 days", `top-products?from=${addDays(today, -364)}`],
      ["top 10 products, 30 days, Asia/Kolkata", `top-products?from=${addDays(today, -29)}&tz=Asia/Kolkata`],
    ];
    const results = new Map<string, { p50: number[]; p95: number[] }>(cases.map(([n]) => [n, { p50: [], p95: [] }]));
    const ask = async (q: string) => {
      const s = performance.now();
      const r = await fetch(`${base}/admin/stats/${q}`, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`${q}: ${r.status}`);
      return performance.now() - s;
    };
    for (const [, q] of cases) for (let i = 0; i < 5; i++) await ask(q); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...cases].reverse() : cases;
      for (const [name, q] of order) {
        const times: number[] = [];
        for (let i = 0; i < REQUESTS; i++) times.push(await ask(q));
        results.get(name)!.p50.push(percentile(times, 50));
        results.get(name)!.p95.push(percentile(times, 95));
      }
      console.log(`round ${round + 1} done`);
    }
    const rowsOut = cases.map(([name]) => {
      const r = results.get(name)!;
      return `| ${name} | ${median(r.p50).toFixed(1)} | ${median(r.p95).toFixed(1)} |`;
    });
    const body = `Command: \`npm run bench:stats\` (BENCH_ORDERS=${ORDERS}, ${REQUESTS} sequential requests per question per round, ${ROUNDS} alternating rounds after a warm-up; medians of the rounds' p50/p95).
Machine: ${machine()} (2 cores shared with other work). Database: MariaDB on localhost, a database the bench creates and drops.
Shop: \`bin/start.ts\` with services api + users + orders, \`STATS_CACHE_TTL=0\` (every answer computed), through the gateway with an admin token.

Data: ${ORDERS.toLocaleString("en")} orders over the last 365 days (${seeded.paid.toLocaleString("en")} paid, ${seeded.refunds.toLocaleString("en")} refunded), 1–3 lines over ${PRODUCTS.toLocaleString("en")} products; seeded in ${seedSec.toFixed(0)} s.
Rollup built from them by \`rebuildStats\` (the 0502 migration on an existing shop) in ${rebuildSec.toFixed(0)} s: ${sizes.map((s) => `${s.t} ${Number(s.n).toLocaleString("en")} rows`).join(", ")}.

| question (uncached) | p50 ms | p95 ms |
|---|---|---|
${rowsOut.join("\n")}

Without the rollup — the same overview scanned from \`orders\` (created_at has no index; paid_at has one), median of 3: 30 days ${median(scan["30 days"]).toFixed(0)} ms, 365 days ${median(scan["365 days"]).toFixed(0)} ms.`;
    console.log(body);
    writeSection("Analytics", body);
  } finally {
    if (shop) await stopProcess(shop);
    if (!process.env.BENCH_KEEP_DB) await dropDatabase(url).catch((err) => console.error(`could not drop ${url}: ${err.message}`));
    fs.rmSync(data, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
