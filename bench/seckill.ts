/**
 * `npm run bench:seckill`: flash-sale purchases and the order writer, embedded and cluster, with
 * a bare Node http server measured in the same run.
 *
 *  1. Admission: POST /api/v1/seckill/events/:id/purchase at BENCH_CONNECTIONS (100) connections
 *     from BENCH_BUYERS buyers for a sale far smaller than the demand (most answers are 409
 *     SECKILL_SOLD_OUT): requests/s and p50/p99, alternating with the bare server.
 *  2. Writer: BENCH_TICKETS (10,000) purchases admitted as fast as the gateway takes them; the
 *     time from the first accepted ticket to the last order written, and the final count (orders
 *     = units sold, zero oversold).
 *     Cluster: SQL statements per written order, from MariaDB's global `Questions` counter over the
 *     writer run (an upper bound: the server is shared, anyone else's statements count too).
 * BENCH_ADMISSION=false skips part 1 (a quick writer-only run; the table then shows "-" there).
 * The per-user token bucket is off (RATE_LIMIT_ENABLED=false): it would answer most of this load
 * with 429 before the sale sees it.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import type { ChildProcess } from "node:child_process";
import { Buyer } from "../test/helpers/checkout";
import { ProcessCluster } from "../test/helpers/processes";
import { loginAdmin, waitFor } from "../test/helpers/shop";
import { buyers, ok, publishSale } from "../test/helpers/seckill";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../services/shared/db";
import { ROOT, machine, median, startProcess, stopProcess, writeSection } from "./lib";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BUYERS = Number(process.env.BENCH_BUYERS ?? 100);
const TICKETS = Number(process.env.BENCH_TICKETS ?? 10_000);
const SHAPES = (process.env.BENCH_SHAPES ?? "embedded,cluster").split(",");
const ADMISSION = process.env.BENCH_ADMISSION !== "false";

async function questions(db: Sequelize): Promise<number> {
  const [row] = await db.query<{ Value: string }>("SHOW GLOBAL STATUS LIKE 'Questions'", { type: QueryTypes.SELECT });
  return Number(row.Value);
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

async function hammer(url: string, body?: (i: number) => { headers: Record<string, string>; body: string }): Promise<Run> {
  let n = 0;
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    ...(body
      ? {
          method: "POST",
          requests: [
            {
              setupRequest: (req: Record<string, unknown>) => {
                const b = body(n++);
                return { ...req, method: "POST", headers: { ...(req.headers as object), ...b.headers }, body: b.body };
              },
            },
          ],
        }
      : {}),
  } as autocannon.Options);
  if (r.errors) throw new Error(`${url}: ${r.errors} errors`);
  const statuses = (r as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, statuses: Object.fromEntries(Object.entries(statuses).map(([k, v]) => [k, v.count])) };
}

interface ShapeResult {
  shape: string;
  bare: number;
  purchase: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  writeMs: number;
  written: number;
  accepted: number;
  oversold: number;
  sqlPerOrder: number | null;
}

async function measure(shape: string, url: string, db?: Sequelize): Promise<ShapeResult> {
  const shop = { url };
  const admin = await loginAdmin(shop);
  console.log(`[${shape}] creating ${BUYERS} buyers…`);
  const crowd: Buyer[] = await buyers(shop, BUYERS, 8);
  const purchaseBody = (b: Buyer) => ({ headers: { "content-type": "application/json", authorization: `Bearer ${b.token}` }, body: JSON.stringify({ addressId: b.addressId }) });

  // 1. admission: a sale of 50 units for everyone, most answers sold out
  const { sale } = await publishSale(shop, admin, { quantity: 50, perUserLimit: 1, stock: 50 });
  const buy = `${url}/api/v1/seckill/events/${sale.id}/purchase`;
  const bodies = crowd.map(purchaseBody);
  const bare: number[] = [];
  const ours: Run[] = [];
  if (ADMISSION) await hammer(buy, (i) => bodies[i % bodies.length]); // warm-up (and the 50 units go)
  else ours.push({ rps: NaN, p50: NaN, p99: NaN, statuses: {} });
  for (let i = 0; ADMISSION && i < ROUNDS; i++) {
    const b = await hammer("http://127.0.0.1:3951/");
    const o = await hammer(buy, (k) => bodies[k % bodies.length]);
    bare.push(b.rps);
    ours.push(o);
    console.log(`[${shape}] round ${i + 1}: bare ${b.rps.toFixed(0)} req/s, purchase ${o.rps.toFixed(0)} req/s (p50 ${o.p50} ms, p99 ${o.p99} ms) ${JSON.stringify(o.statuses)}`);
  }
  const mid = [...ours].sort((a, b) => a.rps - b.rps)[Math.floor(ours.length / 2)];

  // 2. the writer: TICKETS units, each buyer may take TICKETS / BUYERS
  const per = Math.ceil(TICKETS / BUYERS);
  const big = await publishSale(shop, admin, { quantity: TICKETS, perUserLimit: per, stock: TICKETS });
  const bigUrl = `${url}/api/v1/seckill/events/${big.sale.id}/purchase`;
  const figures = async () => ok(await fetch(`${url}/api/v1/admin/seckill/events/${big.sale.id}`, { headers: { authorization: `Bearer ${admin}` } }).then(async (r) => ({ status: r.status, text: "", body: await r.json() })), "figures").figures;
  let first = 0;
  let admitted = 0;
  let next = 0;
  const q0 = db ? await questions(db) : 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < BUYERS * per) {
        const i = next++;
        const b = bodies[i % BUYERS];
        const r = await fetch(bigUrl, { method: "POST", headers: b.headers, body: b.body });
        await r.arrayBuffer();
        if (r.status === 202) {
          admitted++;
          if (!first) first = Date.now();
        }
      }
    }),
  );
  const admittedMs = Date.now() - t0;
  await waitFor(async () => (await figures()).ordered >= admitted, { timeout: 600_000, interval: 50, what: `${admitted} orders written` });
  const writeMs = Date.now() - first;
  const sqlPerOrder = db ? (await questions(db)) - q0 : null;
  const f = await figures();
  console.log(`[${shape}] ${admitted} tickets admitted in ${admittedMs} ms; last order written ${writeMs} ms after the first ticket (${((f.ordered / writeMs) * 1000).toFixed(0)} orders/s); figures ${JSON.stringify(f)}${sqlPerOrder === null ? "" : `; ${(sqlPerOrder / Math.max(1, f.ordered)).toFixed(1)} SQL statements per order (global counter)`}`);
  return {
    shape,
    bare: median(bare),
    purchase: mid.rps,
    p50: mid.p50,
    p99: mid.p99,
    statuses: mid.statuses,
    writeMs,
    written: f.ordered,
    accepted: f.accepted,
    oversold: Math.max(0, f.ordered - TICKETS),
    sqlPerOrder: sqlPerOrder === null ? null : sqlPerOrder / Math.max(1, f.ordered),
  };
}

async function main() {
  const node = path.join(ROOT, "node_modules/.bin/node");
  const tsx = path.join(ROOT, "node_modules/.bin/tsx");
  const bare = await startProcess(node, [path.join(ROOT, "bench/bare-server.js")], { PORT: "3951" }, "http://127.0.0.1:3951/health");
  const results: ShapeResult[] = [];
  try {
    if (SHAPES.includes("embedded")) {
      const data = fs.mkdtempSync(path.join(os.tmpdir(), "mall-bench-sk-"));
      let shop: ChildProcess | null = null;
      try {
        shop = await startProcess(
          tsx,
          ["bin/start.ts"],
          {
            PORT: "3952",
            HOST: "127.0.0.1",
            DATA_DIR: data,
            RATE_LIMIT_ENABLED: "false",
            LOG_LEVEL: "warn",
            METRICS_PORT: "off",
            SEED_DEMO: "false",
            ADMIN_USERNAME: "admin",
            ADMIN_PASSWORD: "admin-pass-1234",
            LOGIN_RATE_LIMIT_MAX: "100000",
          },
          "http://127.0.0.1:3952/ready",
          120_000,
        );
        results.push(await measure("embedded", "http://127.0.0.1:3952"));
      } finally {
        if (shop) await stopProcess(shop);
        fs.rmSync(data, { recursive: true, force: true });
      }
    }
    if (SHAPES.includes("cluster")) {
      const cluster = await ProcessCluster.start([{ name: "all", services: ["api", "users", "catalog", "cart", "inventory", "orders", "payments", "marketing", "ops", "seckill"] }], {
        JWT_SECRET: crypto.randomBytes(32).toString("hex"),
        LOG_LEVEL: "warn",
      });
      const db = acquireSequelize(cluster.databaseUrl);
      try {
        results.push(await measure("cluster", cluster.url, db));
      } finally {
        await releaseSequelize(cluster.databaseUrl);
        await cluster.stop();
      }
    }
  } finally {
    await stopProcess(bare);
  }
  const rows = results.map(
    (r) =>
      `| ${r.shape} | ${r.bare.toFixed(0)} | ${r.purchase.toFixed(0)} (${(r.purchase / r.bare).toFixed(2)}×) | ${r.p50} ms | ${r.p99} ms | ${Object.entries(r.statuses).map(([k, v]) => `${k}: ${v}`).join(", ")} | ${r.accepted} | ${r.writeMs} ms (${((r.written / r.writeMs) * 1000).toFixed(0)} orders/s) | ${r.sqlPerOrder === null ? "-" : r.sqlPerOrder.toFixed(1)} | ${r.written} orders, ${r.oversold} oversold |`,
  );
  const md = [
    `Command: \`npm run bench:seckill\` (autocannon, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} alternating rounds against the bare server after a warm-up; the median round; ${BUYERS} buyers; the writer run admits ${TICKETS} tickets at ${CONNECTIONS} concurrent requests).`,
    `Machine: ${machine()}; the shop, the load generator and (cluster) MariaDB, Redis and NATS share the 2 cores. Embedded: one process, SQLite, memory store. Cluster: one node process with every service over NATS, MariaDB, Redis, JetStream. Token bucket off.`,
    "",
    "| shape | bare server req/s | purchase req/s (÷ bare) | p50 | p99 | answers (median round) | writer run: admitted | first ticket → last order | SQL statements / order | final count |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `Targets: purchase ≥ 0.3× bare, p99 ≤ 20 ms, ≥ 1,000 orders/s written. Run on ${new Date().toISOString().slice(0, 10)}.`,
  ].join("\n");
  console.log("\n" + md);
  writeSection("Seckill", md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
