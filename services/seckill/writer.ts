/**
 * The order writer: turns an accepted ticket into an order, once.
 *
 *   claim (batched with other tickets of the sale: one transaction records the tickets and
 *   claims their units in the database) → orders.createSeckillOrders (batched too: the tickets in
 *   flight together become one call and one orders transaction; each order source SECKILL, key
 *   `seckill:<ticket>`, the sale's price and the buyer's address snapshot; the order takes no
 *   stock hold of its own, its unit sits in the sale's hold; each ticket gets its own answer, so
 *   one bad order fails alone) → ACCEPTED → ORDERED (batched, with `seckill.ticket` SUCCEEDED in
 *   the outbox) → the store's ticket says SUCCEEDED.
 *
 * Redelivery (JetStream, a relay that died before its ack) finds the ticket's row and goes on
 * from where it stopped; createOrder answers the same order for the same key, so a ticket never
 * makes a second order. An order that cannot be written — a final business error at once, an
 * infrastructure failure on the last delivery — makes the ticket FAILED, gives the unit and the
 * buyer's slot back (to the sale, or to normal stock once the sale has closed) and publishes
 * `seckill.ticket` FAILED; the message then goes to the dead letters (ops lists it; a replay
 * finds the ticket FAILED and does nothing).
 */
import type { ServiceBroker } from "moleculer";
import { callAction } from "../shared/actions";
import { isFinalClientError } from "../orders/holds";
import { OrderCalls, OrderLineSnapshot, SeckillOrderParams } from "../orders/orders.contracts";
import { InventoryCalls } from "../inventory/inventory.contracts";
import { Batcher, ItemFailure } from "./batcher";
import { EventRow, SaleDb, TicketRow } from "./sale-db";
import { AcceptedTicket, holdReference } from "./seckill.contracts";
import type { SeckillStore } from "./store";

export interface WriterHost {
  broker: ServiceBroker;
  db: SaleDb;
  store: SeckillStore;
  event(id: number): Promise<EventRow | null>;
  logger: { info(m: string): void; warn(m: string): void; error(m: string): void };
  onWritten(n: number): void;
}

export class OrderWriter {
  private claims: Batcher<AcceptedTicket, TicketRow>;
  private confirms: Batcher<{ ticket: TicketRow; orderNo: string }, void>;
  private orders: Batcher<SeckillOrderParams, string>;

  constructor(private h: WriterHost) {
    this.claims = new Batcher(async (msgs) => {
      const out: TicketRow[] = [];
      // one transaction per sale in the batch
      const bySale = new Map<number, AcceptedTicket[]>();
      for (const m of msgs) bySale.set(m.eventId, [...(bySale.get(m.eventId) ?? []), m]);
      const rows = new Map<string, TicketRow>();
      for (const [eventId, list] of bySale) {
        const ev = await this.mustEvent(eventId);
        for (const [k, v] of await this.h.db.claim(ev, list)) rows.set(k, v);
      }
      for (const m of msgs) out.push(rows.get(m.ticket)!);
      return out;
    });
    this.confirms = new Batcher(async (items) => {
      const bySale = new Map<number, { ticket: TicketRow; orderNo: string }[]>();
      for (const i of items) bySale.set(i.ticket.eventId, [...(bySale.get(i.ticket.eventId) ?? []), i]);
      for (const [eventId, list] of bySale) await this.h.db.ordered(await this.mustEvent(eventId), list);
      return items.map(() => undefined);
    });
    // one call (one orders transaction) for the orders of every ticket in flight; a call that
    // fails as a whole fails each of its tickets (each then retries or fails on its own)
    this.orders = new Batcher<SeckillOrderParams, string>(async (orders) => {
      const answers = await callAction(this.h.broker, OrderCalls.createSeckillOrders, { orders }, { timeout: 30_000 });
      return answers.map((a) => {
        if (a.orderNo) return a.orderNo;
        const e = a.error!;
        // rethrown to this ticket alone, with the fields the error handling below reads
        return new ItemFailure(Object.assign(new Error(e.message), { type: e.type, code: e.code, retryable: e.retryable, data: e.data }));
      });
    }, 100);
  }

  stop() {
    this.claims.stop();
    this.confirms.stop();
    this.orders.stop();
  }

  private async mustEvent(id: number): Promise<EventRow> {
    const ev = await this.h.event(id);
    if (!ev) throw new Error(`seckill event ${id} does not exist`);
    return ev;
  }

  /**
   * Write one accepted ticket. `final`: this is the last delivery — a failure gives the unit back
   * and marks the ticket FAILED before it is rethrown (and dead-lettered).
   */
  async write(msg: AcceptedTicket, final: boolean): Promise<void> {
    const ev = await this.mustEvent(msg.eventId);
    const row = await this.claims.add(msg);
    if (row.status === "FAILED") {
      // the database refused the ticket (or an earlier delivery failed it): the store's slot goes back
      const where = await this.h.store.markFailed(ev.id, row.ticket, row.reason ?? "failed", row.reason !== "sold out" && row.reason !== "purchase limit reached");
      if (where === "CLOSED") await this.toStock(ev, row);
      return;
    }
    if (row.status !== "ACCEPTED") {
      if (row.orderNo) await this.h.store.markOrdered(ev.id, row.ticket, row.userId, row.quantity, row.orderNo);
      return;
    }
    let orderNo: string;
    try {
      const snap = JSON.parse(ev.skuSnapshot) as OrderLineSnapshot;
      orderNo = await this.orders.add({
        userId: msg.userId,
        idempotencyKey: `seckill:${msg.ticket}`,
        requestHash: msg.ticket,
        address: msg.address,
        lines: [{ ...snap, unitPrice: ev.price, quantity: msg.quantity }],
        remark: `seckill ${ev.id}`,
      });
    } catch (err) {
      if (isFinalClientError(err) || final) {
        const reason = `the order could not be written: ${(err as { type?: string })?.type ?? (err as Error)?.message ?? "error"}`;
        this.h.logger.error(`seckill ticket ${msg.ticket}: ${reason}; unit and slot given back`);
        await this.fail(ev, row, reason);
        if (!isFinalClientError(err)) throw err;
        return;
      }
      throw err;
    }
    await this.confirms.add({ ticket: row, orderNo });
    await this.h.store.markOrdered(ev.id, row.ticket, row.userId, row.quantity, orderNo);
    this.h.onWritten(1);
  }

  async fail(ev: EventRow, row: TicketRow, reason: string) {
    await this.h.db.failed(ev, row, reason);
    const where = await this.h.store.markFailed(ev.id, row.ticket, reason, true);
    if (where === "CLOSED") await this.toStock(ev, row);
  }

  /** a unit given back after the sale closed goes to normal stock, once per ticket */
  async toStock(ev: EventRow, row: Pick<TicketRow, "ticket" | "quantity">) {
    await callAction(this.h.broker, InventoryCalls.releasePart, { reference: holdReference(ev.id), key: `back:${row.ticket}`, quantity: row.quantity });
  }
}
