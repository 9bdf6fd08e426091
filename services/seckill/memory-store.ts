/**
 * The embedded shape's seckill store: process memory with the Redis store's semantics, step for
 * step (each method is synchronous inside, so it is as atomic as a Lua script). The stream keeps
 * the entries not yet acknowledged, which consumer each was delivered to and when, like a Redis
 * consumer group.
 */
import { AdmitResult, GiveBackResult, SaleSnapshot, SaleWindow, SeckillStore, StoredTicket, StreamEntry } from "./store";

interface Sale {
  window: SaleWindow;
  open: boolean;
  closedRemaining: number | null;
  pool: number;
  accepted: number;
  buyers: Map<number, number>;
  tickets: Map<string, StoredTicket>;
  seq: number;
  /** not yet delivered, in order */
  fresh: StreamEntry[];
  /** delivered, not acknowledged: id → entry, consumer, delivered at */
  pending: Map<string, { entry: StreamEntry; consumer: string; at: number }>;
}

export class MemorySeckillStore implements SeckillStore {
  readonly kind = "memory" as const;
  private sales = new Map<number, Sale>();
  private leases = new Map<string, { owner: string; until: number }>();

  async load(sale: SaleWindow, snap: SaleSnapshot): Promise<boolean> {
    if (this.sales.has(sale.eventId)) return false;
    this.sales.set(sale.eventId, {
      window: { ...sale },
      open: snap.closedRemaining === null,
      closedRemaining: snap.closedRemaining,
      pool: snap.closedRemaining === null ? snap.pool : 0,
      accepted: snap.accepted,
      buyers: new Map(Object.entries(snap.buyers).map(([u, n]) => [Number(u), n])),
      tickets: new Map(Object.entries(snap.tickets).map(([t, v]) => [t, { ...v }])),
      seq: 0,
      fresh: [],
      pending: new Map(),
    });
    return true;
  }

  async isLoaded(eventId: number) {
    return this.sales.has(eventId);
  }

  async admit(eventId: number, userId: number, quantity: number, ticket: string, nowMs: number, address: string): Promise<AdmitResult> {
    const s = this.sales.get(eventId);
    if (!s) return { ok: false, reason: "NOT_LOADED" };
    if (!s.open || nowMs < s.window.startMs || nowMs >= s.window.endMs) return { ok: false, reason: "NOT_ACTIVE" };
    const had = s.buyers.get(userId) ?? 0;
    if (had + quantity > s.window.perUserLimit) return { ok: false, reason: "LIMIT" };
    if (s.pool < quantity) return { ok: false, reason: "SOLD_OUT" };
    s.pool -= quantity;
    s.buyers.set(userId, had + quantity);
    s.tickets.set(ticket, { userId, quantity, status: "QUEUED", orderNo: "", reason: "", back: "" });
    s.accepted += quantity;
    s.fresh.push({ id: `${nowMs}-${s.seq++}`, ticket, userId, quantity, address, acceptedAt: nowMs });
    return { ok: true, left: s.pool };
  }

  async remaining(eventId: number) {
    return this.sales.get(eventId)?.pool ?? null;
  }

  async accepted(eventId: number) {
    return this.sales.get(eventId)?.accepted ?? null;
  }

  async ticket(eventId: number, ticket: string) {
    const t = this.sales.get(eventId)?.tickets.get(ticket);
    return t ? { ...t } : null;
  }

  async markOrdered(eventId: number, ticket: string, userId: number, quantity: number, orderNo: string) {
    const s = this.sales.get(eventId);
    if (!s) return;
    const t = s.tickets.get(ticket);
    if (t && t.status !== "QUEUED") return;
    if (!t) {
      // written after the store was rebuilt without it: its units come off the pool now
      s.pool = Math.max(0, s.pool - quantity);
      s.buyers.set(userId, (s.buyers.get(userId) ?? 0) + quantity);
    }
    s.tickets.set(ticket, { userId, quantity, status: "SUCCEEDED", orderNo, reason: "", back: "" });
  }

  private release(s: Sale, t: StoredTicket): "pool" | "stock" {
    const left = (s.buyers.get(t.userId) ?? 0) - t.quantity;
    if (left > 0) s.buyers.set(t.userId, left);
    else s.buyers.delete(t.userId);
    if (!s.open) return "stock";
    s.pool += t.quantity;
    return "pool";
  }

  async markFailed(eventId: number, ticket: string, reason: string, unitBack: boolean): Promise<GiveBackResult> {
    const s = this.sales.get(eventId);
    if (!s) return "NOT_LOADED";
    const t = s.tickets.get(ticket);
    if (!t) return "NOOP";
    if (t.status === "FAILED") return t.back === "stock" ? "CLOSED" : "NOOP";
    if (t.status !== "QUEUED") return "NOOP";
    let back: StoredTicket["back"] = "";
    if (unitBack) back = this.release(s, t);
    else {
      const left = (s.buyers.get(t.userId) ?? 0) - t.quantity;
      if (left > 0) s.buyers.set(t.userId, left);
      else s.buyers.delete(t.userId);
    }
    s.tickets.set(ticket, { ...t, status: "FAILED", reason: reason.replace(/\|/g, "/"), back });
    return back === "pool" ? "POOL" : back === "stock" ? "CLOSED" : "NOOP";
  }

  async giveBack(eventId: number, ticket: string): Promise<GiveBackResult> {
    const s = this.sales.get(eventId);
    if (!s) return "NOT_LOADED";
    const t = s.tickets.get(ticket);
    if (!t) return "NOOP";
    if (t.status === "RETURNED") return t.back === "stock" ? "CLOSED" : "NOOP";
    if (t.status !== "SUCCEEDED" && t.status !== "QUEUED") return "NOOP";
    const back = this.release(s, t);
    s.tickets.set(ticket, { ...t, status: "RETURNED", reason: "expired", back });
    return back === "pool" ? "POOL" : "CLOSED";
  }

  async close(eventId: number) {
    const s = this.sales.get(eventId);
    if (!s) return null;
    if (!s.open) return s.closedRemaining ?? 0;
    s.open = false;
    s.closedRemaining = s.pool;
    s.pool = 0;
    return s.closedRemaining;
  }

  async forget(eventId: number) {
    this.sales.delete(eventId);
  }

  async read(eventId: number, consumer: string, count: number): Promise<StreamEntry[]> {
    const s = this.sales.get(eventId);
    if (!s) return [];
    const out = s.fresh.splice(0, count);
    const now = Date.now();
    for (const e of out) s.pending.set(e.id, { entry: e, consumer, at: now });
    return out;
  }

  async claim(eventId: number, consumer: string, minIdleMs: number, count: number): Promise<StreamEntry[]> {
    const s = this.sales.get(eventId);
    if (!s) return [];
    const now = Date.now();
    const out: StreamEntry[] = [];
    for (const p of s.pending.values()) {
      if (out.length >= count) break;
      if (now - p.at < minIdleMs) continue;
      p.consumer = consumer;
      p.at = now;
      out.push(p.entry);
    }
    return out;
  }

  async ack(eventId: number, ids: string[]) {
    const s = this.sales.get(eventId);
    if (s) for (const id of ids) s.pending.delete(id);
  }

  async pending(eventId: number) {
    const s = this.sales.get(eventId);
    return s ? s.pending.size + s.fresh.length : 0;
  }

  async lease(name: string, owner: string, ttlMs: number) {
    const now = Date.now();
    const cur = this.leases.get(name);
    if (cur && cur.until > now && cur.owner !== owner) return false;
    this.leases.set(name, { owner, until: now + ttlMs });
    return true;
  }

  async ping() {}

  async close_() {
    this.sales.clear();
    this.leases.clear();
  }

  /** Tests: lose every key, as a Redis FLUSHALL would. */
  flushAll() {
    this.sales.clear();
    this.leases.clear();
  }
}
