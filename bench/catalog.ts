/**
 * `npm run bench:catalog`: the catalog at 100k products.
 *
 * 1. Seeds a fresh embedded database (SQLite under a temp dir) with 100k products / ~150k SKUs
 *    through the bulk importer (multi-row INSERTs in 2,000-product transactions), and gives
 *    the detail sample real stock through inventory.init.
 * 2. Starts the shop (`bin/start.ts`, embedded shape, rate limiting off) and a bare Node `http`
 *    server answering the same detail body, each in its own process.
 * 3. autocannon, alternating rounds: bare server vs `GET /api/v1/products/:id` (cached detail,
 *    rotating over 500 products); keyword search with a warm cache (40 keywords) and with every
 *    request a different query (cache misses: the real SQL cost at 100k).
 * Results go to the "## Catalog" section of bench/RESULTS.md.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { QueryTypes } from "sequelize";
import { parseConfig } from "../services/shared/config";
import { startNode } from "../services/shared/broker";
import { dropDatabase } from "../services/shared/db";
import type { CatalogService } from "../services/catalog/catalog-types";
import { BulkProduct, bulkInsertProducts } from "../services/catalog/bulk";
import { ROOT, machine, median, startProcess, stopProcess, writeSection } from "./lib";

const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 100_000);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DETAIL_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SEARCH_CONNECTIONS = Number(process.env.BENCH_SEARCH_CONNECTIONS ?? 10);
const DETAIL_SAMPLE = 500;
/** Empty: SQLite under the temp dir (embedded shape). A mysql:// URL runs the same bench on MySQL/MariaDB. */
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "";
/**
 * Another checkout of Mall (e.g. `git worktree add /tmp/before HEAD~1`, its node_modules linked)
 * to measure the uncached search against, on the same data, alternating with this one in every
 * round: a before/after in one run on a noisy machine.
 */
const BASELINE = process.env.BENCH_BASELINE ?? "";

// ---- deterministic catalog generator ---------------------------------------------------------
let seed = 42;
/** mulberry32: small, fast, and without the short low-bit cycles of a plain LCG */
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];

const NOUNS: [string, string][] = [
  ["西红柿", "Tomato"], ["苹果", "Apple"], ["牛奶", "Milk"], ["手机", "Phone"], ["耳机", "Headphones"], ["充电器", "Charger"],
  ["T恤", "T-Shirt"], ["跑步鞋", "Running Shoes"], ["炒锅", "Wok"], ["水壶", "Kettle"], ["面包", "Bread"], ["咖啡", "Coffee"],
  ["茶叶", "Tea"], ["大米", "Rice"], ["酸奶", "Yogurt"], ["洗发水", "Shampoo"], ["牙膏", "Toothpaste"], ["毛巾", "Towel"],
  ["背包", "Backpack"], ["手表", "Watch"], ["台灯", "Desk Lamp"], ["键盘", "Keyboard"], ["鼠标", "Mouse"], ["显示器", "Monitor"],
  ["沙发", "Sofa"], ["枕头", "Pillow"], ["雨伞", "Umbrella"], ["太阳镜", "Sunglasses"], ["橄榄油", "Olive Oil"], ["蜂蜜", "Honey"],
  ["巧克力", "Chocolate"], ["坚果", "Nuts"], ["牛排", "Steak"], ["三文鱼", "Salmon"], ["葡萄", "Grapes"], ["香蕉", "Banana"],
  ["口罩", "Face Mask"], ["保温杯", "Thermos"], ["羽绒服", "Down Jacket"], ["牛仔裤", "Jeans"],
];
const ADJ: [string, string][] = [
  ["新鲜", "Fresh"], ["有机", "Organic"], ["进口", "Imported"], ["精选", "Premium"], ["家用", "Home"], ["便携", "Portable"],
  ["无线", "Wireless"], ["经典", "Classic"], ["轻薄", "Lightweight"], ["大容量", "Large"], ["迷你", "Mini"], ["智能", "Smart"],
];
const SPECS = ["500g", "1kg", "2.5kg", "250ml", "1L", "2L", "128GB", "256GB", "S", "M", "L", "XL", "10-pack", "3件装", "礼盒装", "家庭装"];
const BRANDS = Array.from({ length: 50 }, (_, i) => (i % 2 ? `Brand${i} 品牌${i}` : `品牌${i} Brand${i}`));

function product(i: number, categoryIds: number[], brandIds: number[]): BulkProduct {
  const b = Math.floor(rnd() * brandIds.length);
  const branded = rnd() < 0.9;
  const [nounCn, nounEn] = pick(NOUNS);
  const [adjCn, adjEn] = pick(ADJ);
  const spec = pick(SPECS);
  const chinese = rnd() < 0.5;
  // a model code like "K3-417": unique-ish titles without one word in every title
  const code = `${String.fromCharCode(65 + (i % 26))}${i % 9}-${i % 997}`;
  const brand = branded ? BRANDS[b].split(" ")[chinese ? (b % 2 ? 1 : 0) : b % 2 ? 0 : 1] + " " : "";
  const title = chinese ? `${brand}${adjCn}${nounCn} ${spec} ${code}` : `${brand}${adjEn} ${nounEn} ${spec} ${code}`;
  const [n2cn, n2en] = pick(NOUNS);
  const subtitle = chinese ? `${pick(ADJ)[1]} ${nounEn} · 搭配${n2cn}` : `${pick(ADJ)[0]}${nounCn} · goes with ${n2en}`;
  const base = 100 + Math.floor(rnd() * 200_000);
  const skuCount = 1 + Math.floor(rnd() * 2);
  return {
    title,
    subtitle,
    description: `${title}. ${subtitle}.`,
    categoryId: pick(categoryIds),
    brandId: branded ? brandIds[b] : null,
    status: rnd() < 0.95 ? "ON_SALE" : "OFF_SALE",
    sales: Math.floor(rnd() * 10_000),
    images: [`/api/v1/uploads/${i.toString(16).padStart(32, "0")}.jpg`],
    skus: Array.from({ length: skuCount }, (_, k) => ({
      skuCode: `B${i}-${k}`,
      attrs: { 规格: SPECS[(i + k) % SPECS.length] },
      price: base + k * 500,
    })),
  };
}

export const KEYWORDS = [
  ...NOUNS.slice(0, 12).map(([cn]) => cn),
  ...NOUNS.slice(12, 24).map(([, en]) => en.toLowerCase()),
  "fresh", "organic 西红柿", "有机牛奶", "wireless headphones", "head", "品牌7", "k3", "礼盒", "新鲜苹果 1kg", "智能手表",
  "premium coffee", "香蕉", "olive oil", "三文鱼", "running", "保温杯", "jeans", "礼盒装",
];

// ---- measurement ------------------------------------------------------------------------------
interface Run {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

async function measure(opts: { url: string; connections: number; paths?: () => string }): Promise<Run> {
  const latencies: number[] = [];
  let bad = 0;
  const requests = opts.paths ? [{ setupRequest: (req: { path: string }) => ({ ...req, path: opts.paths!() }) }] : undefined;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url: opts.url, connections: opts.connections, duration: DURATION, requests: requests as never }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
    instance.on("response", (_c: unknown, status: number, _b: number, ms: number) => {
      latencies.push(ms);
      if (status >= 300) bad++;
    });
  });
  if (bad || r.errors) throw new Error(`${opts.url}: ${bad} non-2xx, ${r.errors} errors`);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { rps: r.requests.average, p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}

function cycle<T>(xs: T[]): () => T {
  let i = 0;
  return () => xs[i++ % xs.length];
}

// ---- main -------------------------------------------------------------------------------------
export async function seedDatabase(dataDir: string, databaseUrl = DATABASE_URL) {
  if (databaseUrl) await dropDatabase(databaseUrl);
  const cfg = parseConfig({
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    TRANSPORTER: "",
    REDIS_URL: "",
    CHANNELS_URL: "",
    SERVICES: "catalog,inventory",
    SEED_DEMO: "false",
    MIGRATE_ON_START: "true",
    METRICS_PORT: "off",
    LOG_LEVEL: "warn",
  });
  const node = await startNode(cfg);
  try {
    const svc = node.broker.getLocalService("catalog") as unknown as CatalogService;
    const s = svc.sequelize;
    const now = new Date();
    const categoryIds: number[] = [];
    for (let r = 0; r < 12; r++) {
      await s.query("INSERT INTO categories (name, parent_id, sort, created_at, updated_at) VALUES (?, NULL, ?, ?, ?)", { replacements: [`Root ${r} 根类目${r}`, r, now, now] });
      const [{ id: root }] = await s.query<{ id: number }>("SELECT MAX(id) AS id FROM categories", { type: QueryTypes.SELECT });
      for (let c = 0; c < 5; c++) {
        await s.query("INSERT INTO categories (name, parent_id, sort, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", { replacements: [`Leaf ${r}.${c} 子类目`, root, c, now, now] });
        const [{ id }] = await s.query<{ id: number }>("SELECT MAX(id) AS id FROM categories", { type: QueryTypes.SELECT });
        categoryIds.push(Number(id));
      }
    }
    const brandIds: number[] = [];
    for (const b of BRANDS) {
      await s.query("INSERT INTO brands (name, logo_url, created_at, updated_at) VALUES (?, NULL, ?, ?)", { replacements: [b, now, now] });
      const [{ id }] = await s.query<{ id: number }>("SELECT MAX(id) AS id FROM brands", { type: QueryTypes.SELECT });
      brandIds.push(Number(id));
    }
    const t0 = Date.now();
    const products = Array.from({ length: PRODUCTS }, (_, i) => product(i, categoryIds, brandIds));
    let last = 0;
    const skus = await bulkInsertProducts(s, products, {
      batch: 2000,
      onProgress: (done) => {
        if (done - last >= 20_000 || done === PRODUCTS) {
          last = done;
          process.stdout.write(`  seeded ${done} products (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
        }
      },
    });
    const seedSeconds = (Date.now() - t0) / 1000;
    const [{ n: terms }] = await s.query<{ n: number }>("SELECT COUNT(*) AS n FROM product_search_terms", { type: QueryTypes.SELECT });
    // detail sample: on-sale products with real stock rows
    const onSale = await s.query<{ id: number }>(`SELECT id FROM products WHERE status = 'ON_SALE' AND id % 199 = 0 LIMIT ${DETAIL_SAMPLE}`, { type: QueryTypes.SELECT });
    const sampleIds = onSale.map((r) => Number(r.id));
    const sampleSet = new Set(sampleIds);
    for (const sku of skus.filter((x) => sampleSet.has(x.productId))) {
      await node.broker.call("inventory.init", { skuId: sku.skuId, onHand: 100 + (sku.skuId % 50) });
    }
    return { seedSeconds, skus: skus.length, terms: Number(terms), sampleIds, categoryIds };
  } finally {
    await node.broker.stop();
  }
}

async function main() {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "mall-bench-catalog-"));
  console.log(`seeding ${PRODUCTS} products into ${data} …`);
  const seeded = await seedDatabase(data);
  console.log(`seeded in ${seeded.seedSeconds.toFixed(1)} s: ${seeded.skus} SKUs, ${seeded.terms} search terms`);

  const node = path.join(ROOT, "node_modules/.bin/node");
  const tsx = path.join(ROOT, "node_modules/.bin/tsx");
  const shopEnv = { HOST: "127.0.0.1", DATA_DIR: data, DATABASE_URL, TRANSPORTER: "", REDIS_URL: "", CHANNELS_URL: "", RATE_LIMIT_ENABLED: "false", LOG_LEVEL: "warn", METRICS_PORT: "off", SEED_DEMO: "false", MIGRATE_ON_START: "false", SERVICES: "" };
  const shop = await startProcess(tsx, ["bin/start.ts"], { ...shopEnv, PORT: "3912" }, "http://127.0.0.1:3912/ready", 120_000);
  const before = BASELINE
    ? await startProcess(path.join(BASELINE, "node_modules/.bin/tsx"), ["bin/start.ts"], { ...shopEnv, PORT: "3913" }, "http://127.0.0.1:3913/ready", 120_000, BASELINE)
    : null;
  const api = "http://127.0.0.1:3912";
  const detailBody = await (await fetch(`${api}/api/v1/products/${seeded.sampleIds[0]}`)).text();
  const bareCode = `const b=process.env.BODY;require("node:http").createServer((q,s)=>{if(q.url==="/health")return s.end("ok");s.writeHead(200,{"content-type":"application/json; charset=utf-8"});s.end(b)}).listen(3911,"127.0.0.1")`;
  const bare = await startProcess(node, ["-e", bareCode], { BODY: detailBody }, "http://127.0.0.1:3911/health");
  try {
    const detailPaths = seeded.sampleIds.map((id) => `/api/v1/products/${id}`);
    const searchPaths = KEYWORDS.map((q) => `/api/v1/products?q=${encodeURIComponent(q)}`);
    // every request a query the cache has not seen: keyword × sort × price filter × page × pageSize
    const sorts = ["", "&sort=price_asc", "&sort=sales", "&sort=newest", "&sort=price_desc"];
    const cold: string[] = [];
    const prices = ["", "&minPrice=1000", "&maxPrice=100000"];
    for (const q of KEYWORDS)
      for (const s of sorts)
        for (const pr of prices)
          for (let page = 1; page <= 6; page++)
            for (let size = 10; size <= 50; size += 5) cold.push(`/api/v1/products?q=${encodeURIComponent(q)}${s}${pr}&page=${page}&pageSize=${size}`);
    for (let i = cold.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [cold[i], cold[j]] = [cold[j], cold[i]];
    }
    const coldNext = cycle(cold);
    // the baseline reads the same queries in the same order (its own cache: all misses too)
    const beforeNext = cycle(cold);

    // warm-up: JIT, SQLite page cache, response cache for detail and cached search
    await measure({ url: api, connections: DETAIL_CONNECTIONS, paths: cycle(detailPaths) });
    await measure({ url: api, connections: SEARCH_CONNECTIONS, paths: cycle(searchPaths) });
    if (before) await measure({ url: "http://127.0.0.1:3913", connections: SEARCH_CONNECTIONS, paths: cycle(searchPaths) });
    await measure({ url: "http://127.0.0.1:3911", connections: DETAIL_CONNECTIONS });

    const runs: Record<string, Run[]> = { bare: [], health: [], detail: [], search: [], cold: [], cold1: [], before: [], before1: [] };
    for (let i = 0; i < ROUNDS; i++) {
      runs.bare.push(await measure({ url: "http://127.0.0.1:3911", connections: DETAIL_CONNECTIONS }));
      runs.health.push(await measure({ url: `${api}/health`, connections: DETAIL_CONNECTIONS }));
      runs.detail.push(await measure({ url: api, connections: DETAIL_CONNECTIONS, paths: cycle(detailPaths) }));
      runs.search.push(await measure({ url: api, connections: SEARCH_CONNECTIONS, paths: cycle(searchPaths) }));
      const baseline = async () => {
        if (!before) return;
        runs.before.push(await measure({ url: "http://127.0.0.1:3913", connections: SEARCH_CONNECTIONS, paths: beforeNext }));
        runs.before1.push(await measure({ url: "http://127.0.0.1:3913", connections: 1, paths: beforeNext }));
      };
      // alternate which shop goes first: the machine's load drifts within a round too
      if (i % 2 === 1) await baseline();
      runs.cold.push(await measure({ url: api, connections: SEARCH_CONNECTIONS, paths: coldNext }));
      runs.cold1.push(await measure({ url: api, connections: 1, paths: coldNext }));
      if (i % 2 === 0) await baseline();
      console.log(`round ${i + 1}:`, JSON.stringify(Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v[v.length - 1]]))));
    }
    const med = (k: string, f: keyof Run) => median(runs[k].map((r) => r[f]));
    // paired per round: the machine's load drifts between rounds, a ratio within a round does not
    const ratio = median(runs.detail.map((d, i) => d.rps / runs.bare[i].rps));
    const healthRatio = median(runs.detail.map((d, i) => d.rps / runs.health[i].rps));
    const coldUsed = ROUNDS * DURATION * (med("cold", "rps") + med("cold1", "rps"));
    const ms = (v: number) => (v < 10 ? v.toFixed(1) : Math.round(v).toString());
    const row = (name: string, k: string, conns: number) =>
      `| ${name} | ${conns} | ${Math.round(med(k, "rps"))} | ${ms(med(k, "p50"))} ms | ${ms(med(k, "p95"))} ms | ${ms(med(k, "p99"))} ms |`;
    const body = `Command: \`${DATABASE_URL ? "BENCH_DATABASE_URL=mysql://… " : ""}npm run bench:catalog\` (autocannon, ${DURATION} s per run, ${ROUNDS} alternating rounds after a warm-up; medians of the rounds; p95 computed from every response's latency).
Machine: ${machine()}. Shop: embedded shape (\`bin/start.ts\`, ${DATABASE_URL ? "MariaDB/MySQL" : "SQLite"}, memory cacher), rate limiting off; autocannon runs on the same 2 cores.
Data: ${PRODUCTS} products, ${seeded.skus} SKUs, ${seeded.terms} search terms over 60 leaf categories and 50 brands, 5 % off sale; titles and subtitles mix Chinese and English. Bulk seeding took ${seeded.seedSeconds.toFixed(1)} s.

| endpoint | connections | req/s | p50 | p95 | p99 |
|---|---|---|---|---|---|
${row("bare Node `http` server (same detail body)", "bare", DETAIL_CONNECTIONS)}
${row("`GET /health` through the same gateway (its own trivial action: the framework's floor)", "health", DETAIL_CONNECTIONS)}
${row(`\`GET /api/v1/products/:id\` (cached detail, ${seeded.sampleIds.length} products rotating)`, "detail", DETAIL_CONNECTIONS)}
${row(`\`GET /api/v1/products?q=…\` (${KEYWORDS.length} keywords, cache warm)`, "search", SEARCH_CONNECTIONS)}
${row(`\`GET /api/v1/products?q=…&sort&page&pageSize\` (every query new: cache miss, SQL at ${PRODUCTS / 1000}k)`, "cold", SEARCH_CONNECTIONS)}
${row("same, one client at a time (latency without queueing)", "cold1", 1)}

Detail ÷ bare (median of the per-round ratios): **${ratio.toFixed(2)}×** (target ≥ 0.5×); detail ÷ \`/health\`: ${healthRatio.toFixed(2)}×. Search p95: **${ms(med("search", "p95"))} ms** cached, **${ms(med("cold", "p95"))} ms** uncached with ${SEARCH_CONNECTIONS} clients, **${ms(med("cold1", "p95"))} ms** uncached with one client (target ≤ 50 ms).
Uncached run used ${Math.round(coldUsed)} of ${cold.length} distinct queries (no repeats within the measured rounds${coldUsed > cold.length ? " — NOT true: some repeated" : ""}). Run on ${new Date().toISOString().slice(0, 10)}.${
      before
        ? `

Before/after on the same data, alternating in every round (\`BENCH_BASELINE=${process.env.BENCH_BASELINE_LABEL ?? BASELINE}\`), same uncached queries in the same order:

| uncached search | connections | req/s | p50 | p95 | p99 |
|---|---|---|---|---|---|
${row("before (baseline checkout)", "before", SEARCH_CONNECTIONS)}
${row("after (this checkout)", "cold", SEARCH_CONNECTIONS)}
${row("before, one client", "before1", 1)}
${row("after, one client", "cold1", 1)}`
        : ""
    }`;
    writeSection(DATABASE_URL ? "Catalog (MySQL/MariaDB)" : "Catalog", body);
    console.log(`\n## Catalog\n\n${body}\n`);
  } finally {
    await stopProcess(shop);
    if (before) await stopProcess(before);
    await stopProcess(bare);
    fs.rmSync(data, { recursive: true, force: true });
    if (DATABASE_URL) await dropDatabase(DATABASE_URL);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
