/**
 * The seckill store: a sale's live state — units left (the pool), what each buyer holds, every
 * ticket's status and the stream of accepted tickets — behind one interface with two
 * implementations of exactly the same semantics: Redis (cluster; one Lua script per operation,
 * redis-store.ts) and process memory (embedded; memory-store.ts). test/integration/seckill-store
 * runs one suite against both.
 *
 * Every operation that changes more than one thing is atomic: admission checks the window, the
 * buyer's limit and the stock, takes the units, records the buyer and the ticket and appends the
 * ticket to the stream in one step, so taken stock and a recorded ticket never come apart.
 */

export type TicketStatus = "QUEUED" | "SUCCEEDED" | "FAILED" | "RETURNED";

export interface StoredTicket {
  userId: number;
  quantity: number;
  status: TicketStatus;
  orderNo: string;
  reason: string;
  /** where a unit given back went: "" none, "pool" the sale, "stock" normal stock (the sale had closed) */
  back: "" | "pool" | "stock";
}

export interface SaleWindow {
  eventId: number;
  startMs: number;
  endMs: number;
  perUserLimit: number;
}

/** What a (re)load puts into the store: from the event alone, or rebuilt from the database. */
export interface SaleSnapshot {
  pool: number;
  /** userId → units held */
  buyers: Record<string, number>;
  tickets: Record<string, StoredTicket>;
  /** the sale was closed (its rest went back to stock): closedRemaining units */
  closedRemaining: number | null;
  accepted: number;
}

export type AdmitRefusal = "NOT_LOADED" | "NOT_ACTIVE" | "LIMIT" | "SOLD_OUT";
export type AdmitResult = { ok: true; left: number } | { ok: false; reason: AdmitRefusal };

/** Where a unit given back went: the sale's pool, normal stock (the caller releases it from the hold), or nowhere (already done / unknown). */
export type GiveBackResult = "POOL" | "CLOSED" | "NOOP" | "NOT_LOADED";

export interface StreamEntry {
  id: string;
  ticket: string;
  userId: number;
  quantity: number;
  /** JSON of the address snapshot the buyer chose */
  address: string;
  acceptedAt: number;
}

export interface SeckillStore {
  readonly kind: "memory" | "redis";
  /** Put a sale into the store unless it is there already; true when this call loaded it. */
  load(sale: SaleWindow, snap: SaleSnapshot): Promise<boolean>;
  isLoaded(eventId: number): Promise<boolean>;
  /** The hot path: one atomic step. */
  admit(eventId: number, userId: number, quantity: number, ticket: string, nowMs: number, address: string): Promise<AdmitResult>;
  /** units left, or null when the sale is not loaded */
  remaining(eventId: number): Promise<number | null>;
  accepted(eventId: number): Promise<number | null>;
  ticket(eventId: number, ticket: string): Promise<StoredTicket | null>;
  /** QUEUED → SUCCEEDED with its order; a ticket the store does not know (lost and rebuilt) takes its units now */
  markOrdered(eventId: number, ticket: string, userId: number, quantity: number, orderNo: string): Promise<void>;
  /** QUEUED → FAILED; frees the buyer's slot, and the units when `unitBack` */
  markFailed(eventId: number, ticket: string, reason: string, unitBack: boolean): Promise<GiveBackResult>;
  /** an order that expired unpaid: SUCCEEDED → RETURNED, units and slot back (to the pool, or to stock once closed) */
  giveBack(eventId: number, ticket: string): Promise<GiveBackResult>;
  /** Close the sale: no more admissions; the units left are returned (the same number on every call). null when not loaded. */
  close(eventId: number): Promise<number | null>;
  /** drop every key of the sale */
  forget(eventId: number): Promise<void>;

  // the stream of accepted tickets, read by the relay's consumer group
  read(eventId: number, consumer: string, count: number): Promise<StreamEntry[]>;
  /** entries delivered to a consumer that has not acknowledged them for `minIdleMs` (a dead relay) */
  claim(eventId: number, consumer: string, minIdleMs: number, count: number): Promise<StreamEntry[]>;
  ack(eventId: number, ids: string[]): Promise<void>;
  /** entries delivered and not yet acknowledged */
  pending(eventId: number): Promise<number>;

  /** A lease (reconciler, sweeper) held by `owner` for `ttlMs`; true when taken. */
  lease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  ping(): Promise<void>;
  close_(): Promise<void>;
}

/** "userId|quantity|status|orderNo|reason|back" — the form both stores keep a ticket in. */
export function encodeTicket(t: StoredTicket): string {
  return [t.userId, t.quantity, t.status, t.orderNo, t.reason.replace(/\|/g, "/"), t.back].join("|");
}

export function decodeTicket(v: string): StoredTicket {
  const [u, q, status, orderNo = "", reason = "", back = ""] = v.split("|");
  return { userId: Number(u), quantity: Number(q), status: status as TicketStatus, orderNo, reason, back: back as StoredTicket["back"] };
}
