/**
 * `npm run bench:purchase`: complete purchases — `POST /orders` then `POST /payments` with the
 * wallet — by 20 concurrent buyers against the whole shop in one process, in both shapes, side by
 * side in one run:
 *   - embedded: `npm start` with no configuration (SQLite file, in-process transport, memory
 *     cache, in-process channels);
 *   - cluster, one node: every service in one process on MariaDB, Redis, NATS and JetStream.
 * Per shape it prints orders/s, payments/s, purchases/s with p50/p99 of each step, then the cost
 * of one purchase (SQL statements and broker requests, counted over a sequential pass: the SQL
 * log of the process for SQLite, MariaDB's `Questions` counter for the cluster; moleculer's
 * `moleculer_request_total` for the broker), then the books: every order PAID, wallets debited by
 * exactly the paid amounts, stock committed for exactly the ordered units, the outbox drained. Figures go to bench/RESULTS.md ("## Complete purchase").
 *
 * Environment: BENCH_DURATION (s per shape, default 15), BENCH_CONNECTIONS (default 20),
 * BENCH_BUYERS (default 100), BENCH_SHAPES (default "embedded,cluster"), BENCH_SERIAL (purchases
 * in the counting pass, default 40), BENCH_WRITE=false, BENCH_PROFILE=<dir> (V8 CPU profiles).
 * Run it on a quiet machine: the load generator shares the cores with the shop.
 */
import { ChildProcess, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../services/shared/db";
import { Buyer, newBuyer, stockedProduct } from "../test/helpers/checkout";
import { ProcessCluster, freePort } from "../test/helpers/processes";
import { ADMIN, loginAdmin, waitFor } from "../test/helpers/shop";
import { ROOT, machine, writeSection } from "./lib";

const DURATION_S = Number(process.env.BENCH_DURATION ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const BUYERS = Number(process.env.BENCH_BUYERS ?? 100);
const SERIAL = Number(process.env.BENCH_SERIAL ?? 40);
const SHAPES = (process.env.BENCH_SHAPES ?? "embedded,cluster").split(",").map((s) => s.trim());
const PRICE = 12_000;
const SKUS = 10;
const ALL = ["api", "users", "catalog", "inventory", "cart", "orders", "payments", "marketing", "ops"];

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN);

interface ShopUnderTest {
  url: string;
  metricsPort: number;
  db: Sequelize;
  /** SQL statements since start (SQLite: the process's SQL log; null when counted by MariaDB) */
  sqlLines(): number | null;
  /** SQLite: keep the statements logged from now on (for BENCH_SQL_DIGEST); returns a function that stops and hands them over */
  captureSql?(): () => string[];
  stop(): Promise<void>;
}

async function post(url: string, p: string, body: unknown, token: string, key?: string) {
  const r = await fetch(`${url}/api/v1/${p}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...(key ? { "idempotency-key": key } : {}) },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as { data?: any; type?: string } };
}

async function startEmbedded(sqlLog: boolean): Promise<ShopUnderTest> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-bench-"));
  const port = await freePort();
  const metricsPort = await freePort();
  const profile: Record<string, string> = process.env.BENCH_PROFILE ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {};
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    DATA_DIR: dir,
    METRICS_PORT: String(metricsPort),
    SEED_DEMO: "false",
    LOG_LEVEL: "error",
    RATE_LIMIT_ENABLED: "false",
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    SQL_LOG: sqlLog ? "true" : "false",
    ...profile,
  };
  for (const k of ["TRANSPORTER", "DATABASE_URL", "REDIS_URL", "CHANNELS_URL", "SERVICES", "NAMESPACE"]) delete env[k];
  const child: ChildProcess = spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["bin/start.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let lines = 0;
  let tail = "";
  let captured: string[] | null = null;
  let partial = "";
  child.stdout!.on("data", (d: Buffer) => {
    const s = d.toString();
    if (sqlLog) {
      const parts = (partial + s).split("\n");
      partial = parts.pop()!;
      const statements = parts.filter((l) => l.startsWith("Executing ("));
      lines += statements.length;
      if (captured) for (const l of statements) captured.push(l.replace(/^Executing \([^)]*\): /, ""));
    }
    tail = (tail + s).slice(-3000);
  });
  child.stderr!.on("data", (d: Buffer) => (tail = (tail + d.toString()).slice(-3000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${tail}`);
      return (await fetch(`${url}/ready`).catch(() => null))?.ok ?? false;
    },
    { timeout: 90_000, what: "embedded shop ready" },
  );
  const dbUrl = `sqlite:${path.join(dir, "mall.sqlite")}`;
  const db = acquireSequelize(dbUrl);
  return {
    url,
    metricsPort,
    db,
    sqlLines: () => (sqlLog ? lines : null),
    captureSql() {
      captured = [];
      return () => {
        const out = captured ?? [];
        captured = null;
        return out;
      };
    },
    async stop() {
      await releaseSequelize(dbUrl);
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
      });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startCluster(): Promise<ShopUnderTest> {
  const metricsPort = await freePort();
  const profile: Record<string, string> = process.env.BENCH_PROFILE ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {};
  const cluster = await ProcessCluster.start([{ name: "all", services: ALL }], {
    LOG_LEVEL: "error",
    RATE_LIMIT_ENABLED: "false",
    REQUEST_TIMEOUT: "30000",
    METRICS_PORT: String(metricsPort),
    EXPECTED_SERVICES: ALL.filter((s) => s !== "api").join(","),
    ...profile,
  });
  const db = acquireSequelize(cluster.databaseUrl);
  return {
    url: cluster.url,
    metricsPort,
    db,
    sqlLines: () => null,
    async stop() {
      await releaseSequelize(cluster.databaseUrl);
      await cluster.stop();
    },
  };
}

async function brokerRequests(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let n = 0;
  for (const line of text.split("\n")) {
    const m = /^moleculer_request_total(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) n += Number(m[1]);
  }
  return n;
}

async function questions(db: Sequelize): Promise<number> {
  const [row] = await db.query<{ Value: string }>("SHOW GLOBAL STATUS LIKE 'Questions'", { type: QueryTypes.SELECT });
  return Number(row.Value);
}

/**
 * BENCH_SQL_DIGEST=<file>: the statements of the counting pass — MariaDB's general log (cluster) or
 * the shop's SQL log (embedded) — written as statements per purchase grouped by shape (literals
 * replaced by ?), most frequent first. Run one shape at a time (BENCH_SHAPES), or the second
 * overwrites the first.
 */
async function startGeneralLog(db: Sequelize): Promise<(file: string, purchases: number) => Promise<void>> {
  const [{ output }] = await db.query<{ output: string }>("SELECT @@GLOBAL.log_output AS output", { type: QueryTypes.SELECT });
  await db.query("SET GLOBAL log_output = 'TABLE'");
  await db.query("TRUNCATE mysql.general_log");
  await db.query("SET GLOBAL general_log = 1");
  return async (file, purchases) => {
    await db.query("SET GLOBAL general_log = 0");
    await db.query("SET GLOBAL log_output = ?", { replacements: [output] });
    const rows = await db.query<{ t: string; k: string }>("SELECT CONVERT(argument USING utf8mb4) AS t, command_type AS k FROM mysql.general_log", { type: QueryTypes.SELECT });
    await db.query("TRUNCATE mysql.general_log");
    writeDigest(
      file,
      rows.filter((r) => r.k === "Query" || r.k === "Execute").map((r) => r.t),
      purchases,
    );
  };
}

/** Statements per purchase grouped by shape (literals replaced by ?), most frequent first. */
function writeDigest(file: string, statements: string[], purchases: number): void {
  const groups = new Map<string, number>();
  for (const t of statements) {
    const shape = t.replace(/'(?:[^'\\]|\\.)*'/g, "?").replace(/\b\d+(\.\d+)?\b/g, "?").replace(/\(\?(, ?\?)*\)/g, "(…)").replace(/\s+/g, " ").slice(0, 220);
    groups.set(shape, (groups.get(shape) ?? 0) + 1);
  }
  const lines = [...groups].sort((a, b) => b[1] - a[1]).map(([q, n]) => `${(n / purchases).toFixed(2).padStart(6)}  ${q}`);
  fs.writeFileSync(file, lines.join("\n") + "\n");
  console.log(`SQL digest of the counting pass (${(statements.length / purchases).toFixed(1)} statements per purchase): ${file}`);
}

interface Purchase {
  orderNo: string;
  buyer: Buyer;
  skuId: number;
  quantity: number;
  payable: number;
}

async function purchase(url: string, buyer: Buyer, skuId: number, quantity: number, lat: { order: number[]; pay: number[]; total: number[] }, failures: Map<string, number>): Promise<Purchase | null> {
  const fail = (k: string) => failures.set(k, (failures.get(k) ?? 0) + 1);
  const t0 = performance.now();
  const o = await post(url, "orders", { addressId: buyer.addressId, items: [{ skuId, quantity }] }, buyer.token, crypto.randomUUID());
  const t1 = performance.now();
  if (o.status !== 201 || !o.body.data) return fail(`order ${o.status} ${o.body.type ?? ""}`), null;
  const p = await post(url, "payments", { orderNo: o.body.data.orderNo, channel: "wallet" }, buyer.token, crypto.randomUUID());
  const t2 = performance.now();
  if (p.status >= 300 || p.body.data?.status !== "SUCCEEDED") return fail(`payment ${p.status} ${p.body.type ?? p.body.data?.status ?? ""}`), null;
  lat.order.push(t1 - t0);
  lat.pay.push(t2 - t1);
  lat.total.push(t2 - t0);
  return { orderNo: o.body.data.orderNo, buyer, skuId, quantity, payable: Number(o.body.data.payable) };
}

async function drive(url: string, buyers: Buyer[], skuIds: number[], until: number, connections: number) {
  const lat = { order: [] as number[], pay: [] as number[], total: [] as number[] };
  const failures = new Map<string, number>();
  const done: Purchase[] = [];
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      // each connection is its own buyers' slice: a buyer never pays twice at once
      for (let i = c; Date.now() < until; i += connections) {
        const buyer = buyers[i % buyers.length];
        const r = await purchase(url, buyer, skuIds[i % skuIds.length], 1 + (i % 2), lat, failures).catch((err) => {
          failures.set(String((err as Error).message), (failures.get(String((err as Error).message)) ?? 0) + 1);
          return null;
        });
        if (r) done.push(r);
      }
    }),
  );
  return { lat, failures, done };
}

interface ShapeResult {
  shape: string;
  purchases: number;
  seconds: number;
  order: { rate: number; p50: number; p99: number };
  pay: { rate: number; p50: number; p99: number };
  total: { rate: number; p50: number; p99: number };
  sqlPerPurchase: number;
  brokerPerPurchase: number;
  /** seconds after the measured window until every purchase had its stock committed (order.paid consumers) */
  settleSeconds: number;
  /** purchases ÷ (window + settle): the rate the shop keeps up, effects included */
  sustained: number;
  books: string;
  failures: Record<string, number>;
}

/** Wait (at most 2 minutes) until every order's reservation is COMMITTED: order.paid's effects have run. */
function everyReservationCommitted(db: Sequelize, orderNos: string[], interval: number) {
  return waitFor(
    async () => {
      const [r] = await db.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM reservations WHERE status = 'COMMITTED' AND reference IN (${orderNos.map(() => "?").join(",")})`,
        { replacements: orderNos, type: QueryTypes.SELECT },
      );
      return Number(r.n) === orderNos.length;
    },
    { timeout: 120_000, interval, what: "every reservation committed" },
  );
}

/** Everything the purchases should have left behind, checked from the databases. */
async function checkBooks(db: Sequelize, all: Purchase[], skuIds: number[], wallet: number, buyers: Buyer[]): Promise<string> {
  const problems: string[] = [];
  const orderNos = all.map((p) => p.orderNo);
  // order.paid → inventory commit and marketing points are asynchronous: wait for them to settle
  await everyReservationCommitted(db, orderNos, 500).catch(() => problems.push("not every reservation was committed within 2 minutes"));
  const [paid] = await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM orders WHERE status = 'PAID' AND order_no IN (${orderNos.map(() => "?").join(",")})`, {
    replacements: orderNos,
    type: QueryTypes.SELECT,
  });
  if (Number(paid.n) !== all.length) problems.push(`${all.length - Number(paid.n)} orders not PAID`);
  const spent = new Map<number, number>();
  for (const p of all) spent.set(p.buyer.id, (spent.get(p.buyer.id) ?? 0) + p.payable);
  const wallets = await db.query<{ id: number; balance: number }>(`SELECT user_id AS id, balance FROM wallets WHERE user_id IN (${buyers.map(() => "?").join(",")})`, {
    replacements: buyers.map((b) => b.id),
    type: QueryTypes.SELECT,
  });
  const wrong = wallets.filter((w) => Number(w.balance) !== wallet - (spent.get(Number(w.id)) ?? 0));
  if (wrong.length) problems.push(`${wrong.length} wallets differ from their payments`);
  const units = new Map<number, number>();
  for (const p of all) units.set(p.skuId, (units.get(p.skuId) ?? 0) + p.quantity);
  const stock = await db.query<{ sku_id: number; on_hand: number; reserved: number }>(`SELECT sku_id, on_hand, reserved FROM stock WHERE sku_id IN (${skuIds.map(() => "?").join(",")})`, {
    replacements: skuIds,
    type: QueryTypes.SELECT,
  });
  const sold = stock.reduce((a, s) => a + (1_000_000 - Number(s.on_hand)), 0);
  const ordered = [...units.values()].reduce((a, b) => a + b, 0);
  if (sold !== ordered) problems.push(`stock: ${sold} units left on-hand for ${ordered} ordered`);
  if (stock.some((s) => Number(s.reserved) !== 0)) problems.push("units still reserved");
  const [pending] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL", { type: QueryTypes.SELECT });
  if (Number(pending.n) > 0) problems.push(`${pending.n} events still unpublished in the outbox`);
  return problems.length ? `FAILED: ${problems.join("; ")}` : `ok — ${all.length} orders PAID, wallets debited exactly, ${ordered} units committed, none left reserved, outbox drained`;
}

async function runShape(shape: string): Promise<ShapeResult> {
  console.log(`\n=== ${shape}: starting…`);
  const shop = shape === "embedded" ? await startEmbedded(false) : await startCluster();
  const WALLET = 1_000_000_000;
  try {
    const admin = await loginAdmin(shop);
    const skus = await stockedProduct(shop, admin, Array.from({ length: SKUS }, () => ({ price: PRICE, stock: 1_000_000 })));
    const skuIds = skus.map((s) => s.skuId);
    const buyers: Buyer[] = [];
    for (let i = 0; i < BUYERS; i += 10) buyers.push(...(await Promise.all(Array.from({ length: Math.min(10, BUYERS - i) }, () => newBuyer(shop, { admin, wallet: WALLET })))));
    console.log(`warm-up 3 s…`);
    const warm = await drive(shop.url, buyers, skuIds, Date.now() + 3000, CONNECTIONS);

    console.log(`measuring ${DURATION_S} s with ${CONNECTIONS} buyers at once…`);
    const t0 = Date.now();
    const run = await drive(shop.url, buyers, skuIds, t0 + DURATION_S * 1000, CONNECTIONS);
    const seconds = (Date.now() - t0) / 1000;
    const s = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const order = s(run.lat.order);
    const pay = s(run.lat.pay);
    const total = s(run.lat.total);
    const n = run.done.length;
    // the answers are not the whole purchase: order.paid's consumers (stock commit, points, sales
    // figures, notifications) run after them. How long after the window until every purchase made
    // so far has its stock committed, and the rate the shop can keep up (answers and effects)
    const tEnd = Date.now();
    const everyRef = [...warm.done, ...run.done].map((p) => p.orderNo);
    await everyReservationCommitted(shop.db, everyRef, 100).catch(() => undefined);
    const settleSeconds = (Date.now() - tEnd) / 1000;

    // the cost of one purchase, counted over a sequential pass (nothing else running)
    const lat = { order: [] as number[], pay: [] as number[], total: [] as number[] };
    const failures = new Map<string, number>();
    let counted = shape === "embedded" ? null : shop;
    let sqlBefore = 0;
    let brokerBefore = 0;
    let counting: ShopUnderTest | null = null;
    if (shape === "embedded") {
      // the SQL log slows the process down: count on a second, fresh process
      counting = await startEmbedded(true);
      counted = counting;
    }
    const c = counted!;
    const cAdmin = await loginAdmin(c);
    // its own SKU and buyer, so the books of the measured run stay exact
    const cSkus = (await stockedProduct(c, cAdmin, [{ price: PRICE, stock: 1_000_000 }])).map((x) => x.skuId);
    const cBuyer = await newBuyer(c, { admin: cAdmin, wallet: WALLET });
    await purchase(c.url, cBuyer, cSkus[0], 1, lat, failures); // first-use costs out of the count
    await new Promise((r) => setTimeout(r, 1000));
    sqlBefore = shape === "embedded" ? c.sqlLines()! : await questions(c.db);
    brokerBefore = await brokerRequests(c.metricsPort);
    let digest: ((file: string, purchases: number) => Promise<void>) | null = null;
    if (process.env.BENCH_SQL_DIGEST && shape === "cluster") digest = await startGeneralLog(c.db);
    else if (process.env.BENCH_SQL_DIGEST) {
      const captured = c.captureSql!();
      digest = async (file, purchases) => writeDigest(file, captured(), purchases);
    }
    for (let i = 0; i < SERIAL; i++) await purchase(c.url, cBuyer, cSkus[0], 1, lat, failures);
    await new Promise((r) => setTimeout(r, 1500)); // the events the purchases caused
    if (digest) await digest(process.env.BENCH_SQL_DIGEST!, SERIAL);
    const sqlAfter = shape === "embedded" ? c.sqlLines()! : await questions(c.db);
    const brokerAfter = await brokerRequests(c.metricsPort);
    // MariaDB's counter includes our own two SHOW STATUS statements
    const sqlPerPurchase = (sqlAfter - sqlBefore - (shape === "embedded" ? 0 : 1)) / SERIAL;
    const brokerPerPurchase = (brokerAfter - brokerBefore) / SERIAL;
    if (counting) await counting.stop();

    const books = await checkBooks(shop.db, [...warm.done, ...run.done], skuIds, WALLET, buyers);
    const r: ShapeResult = {
      shape,
      purchases: n,
      seconds,
      order: { rate: n / seconds, p50: pct(order, 50), p99: pct(order, 99) },
      pay: { rate: n / seconds, p50: pct(pay, 50), p99: pct(pay, 99) },
      total: { rate: n / seconds, p50: pct(total, 50), p99: pct(total, 99) },
      sqlPerPurchase,
      brokerPerPurchase,
      settleSeconds,
      sustained: n / (seconds + settleSeconds),
      books,
      failures: Object.fromEntries([...run.failures, ...failures]),
    };
    console.log(
      `${shape}: ${n} purchases in ${seconds.toFixed(1)} s = ${r.total.rate.toFixed(1)}/s (effects settled ${settleSeconds.toFixed(1)} s later: ${r.sustained.toFixed(1)}/s sustained); order p50 ${r.order.p50.toFixed(0)} ms p99 ${r.order.p99.toFixed(0)} ms; ` +
        `payment p50 ${r.pay.p50.toFixed(0)} ms p99 ${r.pay.p99.toFixed(0)} ms; purchase p99 ${r.total.p99.toFixed(0)} ms; ` +
        `${sqlPerPurchase.toFixed(1)} SQL statements and ${brokerPerPurchase.toFixed(1)} broker requests per purchase; books: ${books}`,
    );
    if (Object.keys(r.failures).length) console.log("failures:", r.failures);
    return r;
  } finally {
    await shop.stop();
  }
}

async function main() {
  const results: ShapeResult[] = [];
  for (const shape of SHAPES) results.push(await runShape(shape));
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "–");
  const table = [
    "| shape | purchases/s (answers) | effects settled after the window | purchases/s sustained | order p50 / p99 ms | payment p50 / p99 ms | purchase p50 / p99 ms | SQL statements / purchase | broker requests / purchase | books |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.shape} | ${r.total.rate.toFixed(1)} | ${r.settleSeconds.toFixed(1)} s | ${r.sustained.toFixed(1)} | ${f(r.order.p50)} / ${f(r.order.p99)} | ${f(r.pay.p50)} / ${f(r.pay.p99)} | ${f(r.total.p50)} / ${f(r.total.p99)} | ${r.sqlPerPurchase.toFixed(1)} | ${r.brokerPerPurchase.toFixed(1)} | ${r.books} |`,
    ),
  ].join("\n");
  console.log(`\n${table}`);
  if (process.env.BENCH_WRITE !== "false") {
    writeSection(
      "Complete purchase",
      `Command: \`npm run bench:purchase\` (${DURATION_S} s per shape, ${CONNECTIONS} buyers at once, each purchase = \`POST /orders\` then \`POST /payments\` with the wallet; ${SERIAL} sequential purchases for the per-purchase counts). Machine: ${machine()}. Orders/s and payments/s equal purchases/s here: every purchase is one of each.

${table}

Embedded is \`npm start\` with no configuration (SQLite); cluster is one process running every service on MariaDB, Redis, NATS and JetStream. The load generator runs on the same two cores.`,
    );
  }
  if (results.some((r) => r.books.startsWith("FAILED"))) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
