/**
 * The seckill service's tables: events and the tickets the writer turned into orders. Every
 * change of `claimed` or of a ticket's status is a conditional UPDATE (compare-and-set) whose
 * row count decides; `claimed` never leaves 0..quantity (the database checks it too), so the
 * database stays the last word on how many units a sale can sell even when the store is wrong.
 */
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import type { SeckillModels, SeckillEventAttrs } from "../../models/seckill";
import { runUpdate, withRetriedTransaction } from "../shared/db";
import { AcceptedTicket, SeckillEvents, SeckillFigures, SeckillTicketEvent } from "./seckill.contracts";
import type { SaleSnapshot, StoredTicket } from "./store";

export type EventRow = SeckillEventAttrs;

export interface TicketRow {
  ticket: string;
  eventId: number;
  userId: number;
  quantity: number;
  status: "ACCEPTED" | "ORDERED" | "PAID" | "EXPIRED" | "FAILED";
  orderNo: string | null;
  reason: string | null;
}

/** statuses whose units are taken */
export const HOLDING = ["ACCEPTED", "ORDERED", "PAID"] as const;

export interface DbDeps {
  sequelize: Sequelize;
  models: SeckillModels;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
}

const toTicket = (r: Record<string, unknown>): TicketRow => ({
  ticket: String(r.ticket),
  eventId: Number(r.event_id ?? r.eventId),
  userId: Number(r.user_id ?? r.userId),
  quantity: Number(r.quantity),
  status: String(r.status) as TicketRow["status"],
  orderNo: (r.order_no ?? r.orderNo ?? null) as string | null,
  reason: (r.reason ?? null) as string | null,
});

export class SaleDb {
  constructor(private d: DbDeps) {}

  get sequelize() {
    return this.d.sequelize;
  }

  tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T> {
    return withRetriedTransaction(this.d.sequelize, fn, 5);
  }

  /** a new PENDING event row; its id */
  async insertEvent(v: Omit<EventRow, "id" | "status" | "claimed" | "returnedUnits" | "createdAt" | "updatedAt">): Promise<number> {
    const now = new Date();
    const row = await this.d.models.SeckillEvent.create({ ...v, status: "PENDING", claimed: 0, returnedUnits: null, createdAt: now, updatedAt: now });
    return Number(row.id);
  }

  async event(id: number): Promise<EventRow | null> {
    const row = await this.d.models.SeckillEvent.findByPk(id, { raw: true });
    return row ? normalise(row as unknown as EventRow) : null;
  }

  async ticketRow(ticket: string): Promise<TicketRow | null> {
    const rows = await this.d.sequelize.query<Record<string, unknown>>("SELECT * FROM seckill_tickets WHERE ticket = ?", { replacements: [ticket], type: QueryTypes.SELECT });
    return rows[0] ? toTicket(rows[0]) : null;
  }

  async ticketByOrder(orderNo: string): Promise<TicketRow | null> {
    const rows = await this.d.sequelize.query<Record<string, unknown>>("SELECT * FROM seckill_tickets WHERE order_no = ?", { replacements: [orderNo], type: QueryTypes.SELECT });
    return rows[0] ? toTicket(rows[0]) : null;
  }

  async figures(eventId: number): Promise<Omit<SeckillFigures, "accepted" | "remaining"> & { written: number }> {
    const rows = await this.d.sequelize.query<{ status: string; n: number | string }>(
      "SELECT status, COALESCE(SUM(quantity), 0) AS n FROM seckill_tickets WHERE event_id = ? GROUP BY status",
      { replacements: [eventId], type: QueryTypes.SELECT },
    );
    const by: Record<string, number> = {};
    for (const r of rows) by[r.status] = Number(r.n);
    const ordered = (by.ORDERED ?? 0) + (by.PAID ?? 0) + (by.EXPIRED ?? 0);
    return { ordered, paid: by.PAID ?? 0, expired: by.EXPIRED ?? 0, failed: by.FAILED ?? 0, written: ordered + (by.ACCEPTED ?? 0) + (by.FAILED ?? 0) };
  }

  /**
   * The writer's first step for a batch of accepted tickets of one sale, in one transaction: a
   * ticket seen before keeps its row; a new one is recorded ACCEPTED and its units claimed —
   * unless the database says the sale (or the buyer's limit) is used up, which can only happen
   * after the store was rebuilt with tickets in flight: then it is recorded FAILED.
   * The event row is locked first, so claims of one sale are serialised.
   */
  async claim(ev: EventRow, msgs: AcceptedTicket[]): Promise<Map<string, TicketRow>> {
    const s = this.d.sequelize;
    const mysql = s.getDialect() !== "sqlite";
    return this.tx(async (t) => {
      const [row] = await s.query<{ claimed: number | string; quantity: number | string }>(
        `SELECT claimed, quantity FROM seckill_events WHERE id = ?${mysql ? " FOR UPDATE" : ""}`,
        { replacements: [ev.id], transaction: t, type: QueryTypes.SELECT },
      );
      const out = new Map<string, TicketRow>();
      const tickets = [...new Set(msgs.map((m) => m.ticket))];
      const seen = await s.query<Record<string, unknown>>(
        `SELECT * FROM seckill_tickets WHERE ticket IN (${tickets.map(() => "?").join(",")})${mysql ? " FOR UPDATE" : ""}`,
        { replacements: tickets, transaction: t, type: QueryTypes.SELECT },
      );
      for (const r of seen) out.set(String(r.ticket), toTicket(r));
      const fresh = msgs.filter((m, i) => !out.has(m.ticket) && msgs.findIndex((x) => x.ticket === m.ticket) === i);
      if (!fresh.length) return out;
      const users = [...new Set(fresh.map((m) => m.userId))];
      const held = await s.query<{ user_id: number | string; n: number | string }>(
        `SELECT user_id, COALESCE(SUM(quantity), 0) AS n FROM seckill_tickets WHERE event_id = ? AND status IN ('ACCEPTED','ORDERED','PAID') AND user_id IN (${users.map(() => "?").join(",")}) GROUP BY user_id`,
        { replacements: [ev.id, ...users], transaction: t, type: QueryTypes.SELECT },
      );
      const byUser = new Map(held.map((h) => [Number(h.user_id), Number(h.n)]));
      let claimed = Number(row.claimed);
      const quantity = Number(row.quantity);
      let taken = 0;
      const now = new Date();
      const rows: TicketRow[] = [];
      for (const m of fresh) {
        const had = byUser.get(m.userId) ?? 0;
        let status: TicketRow["status"] = "ACCEPTED";
        let reason: string | null = null;
        if (claimed + m.quantity > quantity) [status, reason] = ["FAILED", "sold out"];
        else if (had + m.quantity > ev.perUserLimit) [status, reason] = ["FAILED", "purchase limit reached"];
        else {
          claimed += m.quantity;
          taken += m.quantity;
          byUser.set(m.userId, had + m.quantity);
        }
        rows.push({ ticket: m.ticket, eventId: ev.id, userId: m.userId, quantity: m.quantity, status, orderNo: null, reason });
      }
      if (taken > 0) {
        const n = await runUpdate(s, "UPDATE seckill_events SET claimed = claimed + ?, updated_at = ? WHERE id = ? AND claimed + ? <= quantity", [taken, now, ev.id, taken], t);
        if (n !== 1) throw new Error(`seckill event ${ev.id}: claim of ${taken} units lost its compare-and-set`);
      }
      await s.query(
        "INSERT INTO seckill_tickets (ticket, event_id, user_id, quantity, status, order_no, reason, created_at, updated_at) VALUES " +
          rows.map(() => "(?, ?, ?, ?, ?, NULL, ?, ?, ?)").join(", "),
        { replacements: rows.flatMap((r) => [r.ticket, r.eventId, r.userId, r.quantity, r.status, r.reason, now, now]), transaction: t, type: QueryTypes.INSERT },
      );
      for (const r of rows) {
        out.set(r.ticket, r);
        if (r.status === "FAILED") await this.d.outbox(t, SeckillEvents.TICKET, ticketEvent(ev, r, "FAILED"));
      }
      return out;
    });
  }

  /** ACCEPTED → ORDERED for a batch of written orders, with their `seckill.ticket` events. */
  async ordered(ev: EventRow, done: { ticket: TicketRow; orderNo: string }[]): Promise<void> {
    const s = this.d.sequelize;
    await this.tx(async (t) => {
      const now = new Date();
      for (const { ticket, orderNo } of done) {
        const n = await runUpdate(s, "UPDATE seckill_tickets SET status = 'ORDERED', order_no = ?, updated_at = ? WHERE ticket = ? AND status = 'ACCEPTED'", [orderNo, now, ticket.ticket], t);
        if (n === 1) await this.d.outbox(t, SeckillEvents.TICKET, ticketEvent(ev, ticket, "SUCCEEDED", orderNo));
      }
    });
  }

  /** ACCEPTED → FAILED (the order could not be written): the units go back to the sale's count. */
  async failed(ev: EventRow, ticket: TicketRow, reason: string): Promise<boolean> {
    const s = this.d.sequelize;
    return this.tx(async (t) => {
      const now = new Date();
      const n = await runUpdate(s, "UPDATE seckill_tickets SET status = 'FAILED', reason = ?, updated_at = ? WHERE ticket = ? AND status = 'ACCEPTED'", [reason.slice(0, 255), now, ticket.ticket], t);
      if (n !== 1) return false;
      await runUpdate(s, "UPDATE seckill_events SET claimed = claimed - ?, updated_at = ? WHERE id = ? AND claimed >= ?", [ticket.quantity, now, ev.id, ticket.quantity], t);
      await this.d.outbox(t, SeckillEvents.TICKET, ticketEvent(ev, { ...ticket, reason }, "FAILED"));
      return true;
    });
  }

  /** ORDERED → EXPIRED (the order was cancelled unpaid): the units go back to the sale's count. */
  async expired(ticket: TicketRow): Promise<boolean> {
    const s = this.d.sequelize;
    return this.tx(async (t) => {
      const now = new Date();
      const n = await runUpdate(s, "UPDATE seckill_tickets SET status = 'EXPIRED', updated_at = ? WHERE ticket = ? AND status = 'ORDERED'", [now, ticket.ticket], t);
      if (n !== 1) return false;
      await runUpdate(s, "UPDATE seckill_events SET claimed = claimed - ?, updated_at = ? WHERE id = ? AND claimed >= ?", [ticket.quantity, now, ticket.eventId, ticket.quantity], t);
      return true;
    });
  }

  /** ORDERED → PAID. */
  async paid(ticket: TicketRow): Promise<boolean> {
    const n = await this.tx((t) =>
      runUpdate(this.d.sequelize, "UPDATE seckill_tickets SET status = 'PAID', updated_at = ? WHERE ticket = ? AND status = 'ORDERED'", [new Date(), ticket.ticket], t),
    );
    return n === 1;
  }

  /** What the store should hold for a sale, rebuilt from the tickets the database knows. */
  async snapshot(ev: EventRow): Promise<SaleSnapshot> {
    const rows = (await this.d.sequelize.query<Record<string, unknown>>("SELECT * FROM seckill_tickets WHERE event_id = ?", { replacements: [ev.id], type: QueryTypes.SELECT })).map(toTicket);
    const buyers: Record<string, number> = {};
    const tickets: Record<string, StoredTicket> = {};
    let held = 0;
    let accepted = 0;
    for (const r of rows) {
      const holding = (HOLDING as readonly string[]).includes(r.status);
      if (holding) {
        held += r.quantity;
        buyers[r.userId] = (buyers[r.userId] ?? 0) + r.quantity;
      }
      if (r.status !== "FAILED") accepted += r.quantity;
      tickets[r.ticket] = {
        userId: r.userId,
        quantity: r.quantity,
        status: r.status === "FAILED" ? "FAILED" : r.status === "EXPIRED" ? "RETURNED" : r.status === "ACCEPTED" ? "QUEUED" : "SUCCEEDED",
        orderNo: r.orderNo ?? "",
        reason: r.reason ?? "",
        back: r.status === "EXPIRED" ? "pool" : "",
      };
    }
    const pool = Math.max(0, ev.quantity - Math.max(held, ev.claimed));
    const closed = ev.status === "ENDING" || ev.status === "ENDED" || ev.status === "CANCELLED";
    return { pool, buyers, tickets, closedRemaining: closed ? (ev.returnedUnits ?? pool) : null, accepted };
  }

  /** Sales whose store state matters now: not cancelled, not ended long ago. */
  async liveEvents(now = new Date()): Promise<EventRow[]> {
    const rows = await this.d.sequelize.query<Record<string, unknown>>(
      "SELECT * FROM seckill_events WHERE status IN ('SCHEDULED','ENDING') OR (status = 'ENDED' AND end_at > ?) ORDER BY id",
      { replacements: [new Date(now.getTime() - 3600_000)], type: QueryTypes.SELECT },
    );
    return rows.map(rowOf);
  }
}

export function ticketEvent(ev: EventRow, t: Pick<TicketRow, "ticket" | "userId" | "reason">, status: "SUCCEEDED" | "FAILED", orderNo?: string): SeckillTicketEvent {
  const e: SeckillTicketEvent = { eventId: ev.id, eventTitle: ev.title, ticket: t.ticket, userId: t.userId, status };
  if (orderNo) e.orderNo = orderNo;
  if (status === "FAILED") e.reason = t.reason ?? "the order could not be written";
  return e;
}

function normalise(r: EventRow): EventRow {
  return {
    ...r,
    id: Number(r.id),
    skuId: Number(r.skuId),
    price: Number(r.price),
    skuPrice: Number(r.skuPrice),
    quantity: Number(r.quantity),
    perUserLimit: Number(r.perUserLimit),
    claimed: Number(r.claimed),
    returnedUnits: r.returnedUnits === null || r.returnedUnits === undefined ? null : Number(r.returnedUnits),
    startAt: new Date(r.startAt),
    endAt: new Date(r.endAt),
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
  };
}

/** a raw snake_case row */
export function rowOf(r: Record<string, unknown>): EventRow {
  return normalise({
    id: r.id,
    skuId: r.sku_id,
    title: r.title,
    price: r.price,
    skuPrice: r.sku_price,
    currency: r.currency,
    quantity: r.quantity,
    perUserLimit: r.per_user_limit,
    startAt: r.start_at,
    endAt: r.end_at,
    status: r.status,
    claimed: r.claimed,
    returnedUnits: r.returned_units,
    skuSnapshot: r.sku_snapshot,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  } as unknown as EventRow);
}
