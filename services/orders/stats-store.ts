/**
 * The sales rollup of the orders service (tables from migrations/0502-order-stats.ts).
 *
 *   order_stats           per (level, currency, bucket): orders created and their amount, orders
 *                         paid, GMV, units, conversions (counted at the order's creation), refunds
 *   order_stats_products  per (level, currency, bucket, product): units, GMV, paid orders — hours,
 *                         days and months only; the quarter-hour edges of a period (time zones
 *                         such as +05:30) are read from the order lines themselves
 *
 * `bucket` is the unit's first minute since the epoch (UTC), `level` its size (domain/stats-time.ts).
 * Each fact (order created, order paid, refund completed) is added once to the four units
 * containing its instant, by additive upserts in the consumer's transaction; the facts' markers
 * (processed_events, consumer `orders-stats`, ids `created:<orderNo>`, `paid:<orderNo>`,
 * `refund:<id>`) make redeliveries and a backfill harmless.
 */
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import { withTransaction } from "../shared/db";
import { Level, Run, cover, fromKey, runs, toKey, unitsAt } from "./domain/stats-time";
import type { Bucket } from "./domain/stats-time";
import type { Period } from "./domain/stats-period";
import type { StatsTopProduct } from "./stats.contracts";

export const STATS_CONSUMER = "orders-stats";

export const TOTAL_COLUMNS = ["created", "created_amount", "paid", "gmv", "units", "converted", "refunds", "refund_amount"] as const;
export type TotalColumn = (typeof TOTAL_COLUMNS)[number];
export type Totals = Record<TotalColumn, number>;
const PRODUCT_COLUMNS = ["units", "gmv", "orders"] as const;

const zeroTotals = (): Totals => Object.fromEntries(TOTAL_COLUMNS.map((c) => [c, 0])) as Totals;

interface ProductRow {
  level: Level;
  currency: string;
  bucket: number;
  productId: number;
  title: string;
  units: number;
  gmv: number;
  orders: number;
}

/** What one order looks like to the rollup. */
export interface OrderFacts {
  orderNo: string;
  currency: string;
  payable: number;
  createdAt: number;
  paidAt: number | null;
}
export interface LineFacts {
  productId: number;
  title: string;
  quantity: number;
  payable: number;
}

/** Sums to add, gathered from any number of facts, written by `flush` in one statement per table. */
export class StatsDelta {
  readonly totals = new Map<string, { level: Level; currency: string; bucket: number; v: Totals }>();
  readonly products = new Map<string, ProductRow>();
  readonly markers: string[] = [];

  private addTotals(at: number, currency: string, add: Partial<Totals>) {
    for (const u of unitsAt(at)) {
      const bucket = toKey(u.start);
      const key = `${u.level}|${currency}|${bucket}`;
      let row = this.totals.get(key);
      if (!row) this.totals.set(key, (row = { level: u.level, currency, bucket, v: zeroTotals() }));
      for (const [c, n] of Object.entries(add)) row.v[c as TotalColumn] += n ?? 0;
    }
  }

  created(o: OrderFacts) {
    this.addTotals(o.createdAt, o.currency, { created: 1, created_amount: o.payable });
    this.markers.push(`created:${o.orderNo}`);
  }

  paid(o: OrderFacts, lines: LineFacts[]) {
    if (o.paidAt === null) return;
    const units = lines.reduce((n, l) => n + l.quantity, 0);
    this.addTotals(o.createdAt, o.currency, { converted: 1 });
    this.addTotals(o.paidAt, o.currency, { paid: 1, gmv: o.payable, units });
    const perProduct = new Map<number, LineFacts>();
    for (const l of lines) {
      const p = perProduct.get(l.productId);
      if (p) Object.assign(p, { quantity: p.quantity + l.quantity, payable: p.payable + l.payable });
      else perProduct.set(l.productId, { ...l });
    }
    for (const u of unitsAt(o.paidAt)) {
      if (u.level === "Q") continue;
      const bucket = toKey(u.start);
      for (const l of perProduct.values()) {
        const key = `${u.level}|${o.currency}|${bucket}|${l.productId}`;
        const row = this.products.get(key);
        if (row) Object.assign(row, { units: row.units + l.quantity, gmv: row.gmv + l.payable, orders: row.orders + 1, title: l.title });
        else this.products.set(key, { level: u.level, currency: o.currency, bucket, productId: l.productId, title: l.title, units: l.quantity, gmv: l.payable, orders: 1 });
      }
    }
    this.markers.push(`paid:${o.orderNo}`);
  }

  refunded(refundId: number, at: number, currency: string, amount: number) {
    this.addTotals(at, currency, { refunds: 1, refund_amount: amount });
    this.markers.push(`refund:${refundId}`);
  }

  get empty() {
    return this.totals.size === 0 && this.products.size === 0;
  }
}

const CHUNK = 500;

/** ms since the epoch from what the driver returns for a DATETIME (a Date, or SQLite's text). */
export function dbTime(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  const s = String(v);
  // SQLite (Sequelize): "2026-03-01 15:30:00.000 +00:00"
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(Z|[+-]\d{2}:\d{2})?$/.exec(s);
  return m ? Date.parse(`${m[1]}T${m[2]}${m[3] ?? "Z"}`) : Date.parse(s);
}

export class StatsStore {
  constructor(private sequelize: Sequelize) {}

  private get mysql() {
    return this.sequelize.getDialect() !== "sqlite";
  }

  private upsert(table: string, keys: string[], sums: readonly string[], replace: string[], rows: unknown[][], t?: Transaction) {
    const cols = [...keys, ...replace, ...sums];
    const values = rows.map(() => `(${cols.map(() => "?").join(", ")})`).join(", ");
    const set = this.mysql
      ? [...sums.map((c) => `${c} = ${c} + VALUES(${c})`), ...replace.map((c) => `${c} = VALUES(${c})`)]
      : [...sums.map((c) => `${c} = ${c} + excluded.${c}`), ...replace.map((c) => `${c} = excluded.${c}`)];
    const sql =
      `INSERT INTO ${table} (${cols.join(", ")}) VALUES ${values} ` +
      (this.mysql ? `ON DUPLICATE KEY UPDATE ${set.join(", ")}` : `ON CONFLICT (${keys.join(", ")}) DO UPDATE SET ${set.join(", ")}`);
    return this.sequelize.query(sql, { replacements: rows.flat(), transaction: t, type: QueryTypes.INSERT });
  }

  /** Add a delta's sums (rows in key order, so concurrent writers lock in the same order). */
  async flush(delta: StatsDelta, t: Transaction): Promise<void> {
    const totals = [...delta.totals.values()].sort((a, b) => a.level.localeCompare(b.level) || a.currency.localeCompare(b.currency) || a.bucket - b.bucket);
    for (let i = 0; i < totals.length; i += CHUNK) {
      const rows = totals.slice(i, i + CHUNK).map((r) => [r.level, r.currency, r.bucket, ...TOTAL_COLUMNS.map((c) => r.v[c])]);
      await this.upsert("order_stats", ["level", "currency", "bucket"], TOTAL_COLUMNS, [], rows, t);
    }
    const products = [...delta.products.values()].sort(
      (a, b) => a.level.localeCompare(b.level) || a.currency.localeCompare(b.currency) || a.bucket - b.bucket || a.productId - b.productId,
    );
    for (let i = 0; i < products.length; i += CHUNK) {
      const rows = products.slice(i, i + CHUNK).map((r) => [r.level, r.currency, r.bucket, r.productId, r.title.slice(0, 200), r.units, r.gmv, r.orders]);
      await this.upsert("order_stats_products", ["level", "currency", "bucket", "product_id"], PRODUCT_COLUMNS, ["title"], rows, t);
    }
  }

  /** Record fact markers without failing on ones already there (the backfill). */
  async mark(ids: string[], t: Transaction): Promise<void> {
    const now = new Date();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const verb = this.mysql ? "INSERT IGNORE" : "INSERT OR IGNORE";
      await this.sequelize.query(`${verb} INTO processed_events (consumer, event_id, created_at) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}`, {
        replacements: chunk.flatMap((id) => [STATS_CONSUMER, id, now]),
        transaction: t,
        type: QueryTypes.INSERT,
      });
    }
  }

  /** `(level = ? AND currency = ? AND bucket >= ? AND bucket < ?) OR …` for the runs */
  private where(rs: Run[], currency: string, prefix = "") {
    const sql = rs.map(() => `(${prefix}level = ? AND ${prefix}currency = ? AND ${prefix}bucket >= ? AND ${prefix}bucket < ?)`).join(" OR ");
    return { sql, values: rs.flatMap((r) => [r.level, currency, toKey(r.start), toKey(r.end)]) };
  }

  async overview(p: Period): Promise<Totals> {
    const w = this.where(runs(cover(p.start, p.end)), p.currency);
    const [row] = await this.sequelize.query<Record<string, unknown>>(
      `SELECT ${TOTAL_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(", ")} FROM order_stats WHERE ${w.sql}`,
      { replacements: w.values, type: QueryTypes.SELECT },
    );
    return Object.fromEntries(TOTAL_COLUMNS.map((c) => [c, Number(row?.[c] ?? 0)])) as Totals;
  }

  /**
   * Sums per bucket (buckets are consecutive and cover the period). Buckets of one length (no
   * DST change in the period) are summed by the database, by index; others here.
   */
  async series(p: Period, buckets: Bucket[]): Promise<Totals[]> {
    const units = buckets.flatMap((b) => cover(b.start, b.end));
    const w = this.where(runs(units), p.currency);
    const out = buckets.map(zeroTotals);
    const len = buckets[0].end - buckets[0].start;
    if (buckets.every((b) => b.end - b.start === len)) {
      const index = this.mysql ? "(bucket - ?) DIV ?" : "(bucket - ?) / ?";
      const rows = await this.sequelize.query<Record<string, unknown>>(
        `SELECT ${index} AS i, ${TOTAL_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(", ")} FROM order_stats WHERE ${w.sql} GROUP BY i`,
        { replacements: [toKey(buckets[0].start), len / 60_000, ...w.values], type: QueryTypes.SELECT },
      );
      for (const r of rows) {
        const i = Number(r.i);
        if (i >= 0 && i < out.length) for (const c of TOTAL_COLUMNS) out[i][c] += Number(r[c]);
      }
      return out;
    }
    const rows = await this.sequelize.query<Record<string, unknown>>(`SELECT bucket, ${TOTAL_COLUMNS.join(", ")} FROM order_stats WHERE ${w.sql}`, {
      replacements: w.values,
      type: QueryTypes.SELECT,
    });
    const starts = buckets.map((b) => b.start);
    for (const r of rows) {
      const i = lastAtOrBefore(starts, fromKey(Number(r.bucket)));
      if (i < 0) continue;
      for (const c of TOTAL_COLUMNS) out[i][c] += Number(r[c]);
    }
    return out;
  }

  async topProducts(p: Period, limit: number, sort: "gmv" | "units"): Promise<StatsTopProduct[]> {
    const all = runs(cover(p.start, p.end));
    const rolled = all.filter((r) => r.level !== "Q");
    const edges = all.filter((r) => r.level === "Q");
    const parts: string[] = [];
    const values: unknown[] = [];
    if (rolled.length) {
      const w = this.where(rolled, p.currency);
      parts.push(`SELECT product_id, units, gmv, orders, title FROM order_stats_products WHERE ${w.sql}`);
      values.push(...w.values);
    }
    if (edges.length) {
      // quarter hours at the ends of a period in a zone like +05:30: a few minutes of order lines
      parts.push(
        `SELECT l.product_id, SUM(l.quantity) AS units, SUM(l.payable) AS gmv, 1 AS orders, MAX(l.title) AS title ` +
          `FROM orders o JOIN order_lines l ON l.order_no = o.order_no WHERE o.currency = ? AND (${edges.map(() => "(o.paid_at >= ? AND o.paid_at < ?)").join(" OR ")}) ` +
          `GROUP BY o.order_no, l.product_id`,
      );
      values.push(p.currency, ...edges.flatMap((r) => [new Date(r.start), new Date(r.end)]));
    }
    const order = sort === "units" ? "units DESC, gmv DESC" : "gmv DESC, units DESC";
    const rows = await this.sequelize.query<Record<string, unknown>>(
      `SELECT product_id, SUM(units) AS units, SUM(gmv) AS gmv, SUM(orders) AS orders, MAX(title) AS title FROM (${parts.join(" UNION ALL ")}) x ` +
        `GROUP BY product_id ORDER BY ${order}, product_id LIMIT ${Math.max(1, Math.min(100, Math.floor(limit)))}`,
      { replacements: values, type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ productId: Number(r.product_id), title: String(r.title ?? ""), units: Number(r.units), gmv: Number(r.gmv), orders: Number(r.orders) }));
  }

  /** Order facts of these orders (own tables only). */
  async ordersFacts(orderNos: string[], t?: Transaction): Promise<{ orders: OrderFacts[]; lines: Map<string, LineFacts[]> }> {
    if (!orderNos.length) return { orders: [], lines: new Map() };
    const marks = orderNos.map(() => "?").join(", ");
    const rows = await this.sequelize.query<Record<string, unknown>>(
      `SELECT order_no, currency, payable, created_at, paid_at FROM orders WHERE order_no IN (${marks})`,
      { replacements: orderNos, transaction: t, type: QueryTypes.SELECT },
    );
    const orders = rows.map(orderFacts);
    const paid = orders.filter((o) => o.paidAt !== null).map((o) => o.orderNo);
    return { orders, lines: await this.linesOf(paid, t) };
  }

  async linesOf(orderNos: string[], t?: Transaction): Promise<Map<string, LineFacts[]>> {
    const lines = new Map<string, LineFacts[]>();
    if (!orderNos.length) return lines;
    const rows = await this.sequelize.query<Record<string, unknown>>(
      `SELECT order_no, product_id, title, quantity, payable FROM order_lines WHERE order_no IN (${orderNos.map(() => "?").join(", ")})`,
      { replacements: orderNos, transaction: t, type: QueryTypes.SELECT },
    );
    for (const r of rows) {
      const list = lines.get(String(r.order_no)) ?? [];
      list.push({ productId: Number(r.product_id), title: String(r.title), quantity: Number(r.quantity), payable: Number(r.payable) });
      lines.set(String(r.order_no), list);
    }
    return lines;
  }
}

function orderFacts(r: Record<string, unknown>): OrderFacts {
  return {
    orderNo: String(r.order_no),
    currency: String(r.currency),
    payable: Number(r.payable),
    createdAt: dbTime(r.created_at),
    paidAt: r.paid_at === null || r.paid_at === undefined ? null : dbTime(r.paid_at),
  };
}

function lastAtOrBefore(sorted: number[], v: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= v) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/**
 * Rebuild the whole rollup from the orders and after-sales tables: what the consumers would have
 * written for every fact so far, with the facts' markers, in batches. For the migration that
 * introduces the rollup on an existing shop and for the benchmark; run it while no orders node
 * consumes (a fact delivered meanwhile could be counted by both).
 */
export async function rebuildStats(
  sequelize: Sequelize,
  opts: { batch?: number; onProgress?: (done: number) => void } = {},
): Promise<{ orders: number; refunds: number }> {
  const store = new StatsStore(sequelize);
  const batch = opts.batch ?? 2000;
  await sequelize.query("DELETE FROM order_stats");
  await sequelize.query("DELETE FROM order_stats_products");
  await sequelize.query("DELETE FROM processed_events WHERE consumer = ?", { replacements: [STATS_CONSUMER] });
  let lastId = 0;
  let done = 0;
  for (;;) {
    const rows = await sequelize.query<Record<string, unknown>>(
      `SELECT id, order_no, currency, payable, created_at, paid_at FROM orders WHERE id > ? ORDER BY id LIMIT ${batch}`,
      { replacements: [lastId], type: QueryTypes.SELECT },
    );
    if (!rows.length) break;
    lastId = Number(rows[rows.length - 1].id);
    const orders = rows.map(orderFacts);
    const lines = await store.linesOf(orders.filter((o) => o.paidAt !== null).map((o) => o.orderNo));
    const delta = new StatsDelta();
    for (const o of orders) {
      delta.created(o);
      if (o.paidAt !== null) delta.paid(o, lines.get(o.orderNo) ?? []);
    }
    await withTransaction(sequelize, async (t) => {
      await store.flush(delta, t);
      await store.mark(delta.markers, t);
    });
    done += rows.length;
    opts.onProgress?.(done);
  }
  const refunds = await sequelize.query<Record<string, unknown>>(
    "SELECT id, currency, amount, updated_at FROM aftersales WHERE status = 'COMPLETED'",
    { type: QueryTypes.SELECT },
  );
  for (let i = 0; i < refunds.length; i += batch) {
    const delta = new StatsDelta();
    for (const r of refunds.slice(i, i + batch)) delta.refunded(Number(r.id), dbTime(r.updated_at), String(r.currency), Number(r.amount));
    await withTransaction(sequelize, async (t) => {
      await store.flush(delta, t);
      await store.mark(delta.markers, t);
    });
  }
  return { orders: done, refunds: refunds.length };
}
