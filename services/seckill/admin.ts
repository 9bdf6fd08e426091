/**
 * Publishing, listing and cancelling sales (admin), the sale-end sweep, and the DTOs.
 *
 * Publishing sets the units aside at once: the event row is written PENDING, the SKU's stock is
 * reserved as one hold `seckill:<id>` (409 SECKILL_STOCK_SHORT when short — the row goes), the
 * row becomes SCHEDULED and the sale is loaded into the store. A node dying between those steps
 * leaves a PENDING row that the sweep cancels (giving any hold back).
 *
 * The sale's end, on every node's sweep (safe on many: each step is idempotent or a
 * compare-and-set): SCHEDULED → ENDING once the window is over; close the sale in the store (no
 * more admissions; the units left come back as one number, the same on every call); release
 * that many units of the hold to normal stock once (part key "end"); ENDING → ENDED. Units of
 * tickets still queued or orders still unpaid are not in that number: they come back one by
 * one when they fail or expire (to normal stock, since the sale has closed).
 */
import type { ServiceBroker } from "moleculer";
import { QueryTypes } from "sequelize";
import { callAction } from "../shared/actions";
import { bizError, validationError } from "../shared/errors";
import { runUpdate } from "../shared/db";
import { CatalogCalls } from "../catalog/catalog.contracts";
import { InventoryCalls } from "../inventory/inventory.contracts";
import { sellableSnapshot } from "../orders/orders.contracts";
import { draftProblems, draftWarnings, overlaps, phaseOf } from "./domain/sale-rules";
import { EventRow, SaleDb, rowOf } from "./sale-db";
import { AdminSeckillEventDto, CreateSeckillEventParams, EventPhase, SeckillEventDto, holdReference } from "./seckill.contracts";
import type { SeckillStore } from "./store";

export interface AdminHost {
  broker: ServiceBroker;
  db: SaleDb;
  store: SeckillStore;
  logger: { info(m: string): void; warn(m: string): void; error(m: string): void };
  onChanged(eventId: number): void;
}

const errType = (err: unknown) => (err as { type?: string })?.type;

export function loadWindow(ev: EventRow) {
  return { eventId: ev.id, startMs: ev.startAt.getTime(), endMs: ev.endAt.getTime(), perUserLimit: ev.perUserLimit };
}

export function publicDto(ev: EventRow, remaining: number | null, now = Date.now()): SeckillEventDto {
  const snap = JSON.parse(ev.skuSnapshot) as { productId: number; imageUrl: string | null };
  const phase = phaseOf(ev, now);
  return {
    id: ev.id,
    skuId: ev.skuId,
    productId: snap.productId,
    title: ev.title,
    price: ev.price,
    originalPrice: ev.skuPrice,
    currency: ev.currency,
    quantity: ev.quantity,
    perUserLimit: ev.perUserLimit,
    startAt: ev.startAt.toISOString(),
    endAt: ev.endAt.toISOString(),
    status: phase,
    imageUrl: snap.imageUrl ?? null,
    remaining: phase === "cancelled" ? 0 : Math.max(0, remaining ?? Math.max(0, ev.quantity - ev.claimed)),
  };
}

export async function adminDto(h: AdminHost, ev: EventRow, warnings: string[] = []): Promise<AdminSeckillEventDto> {
  const [remaining, accepted, f] = await Promise.all([h.store.remaining(ev.id), h.store.accepted(ev.id), h.db.figures(ev.id)]);
  const base = publicDto(ev, remaining);
  return {
    ...base,
    figures: { accepted: Math.max(accepted ?? 0, f.written - f.failed), ordered: f.ordered, paid: f.paid, expired: f.expired, failed: f.failed, remaining: base.remaining },
    returnedUnits: ev.returnedUnits,
    warnings,
  };
}

export async function createEvent(h: AdminHost, p: CreateSeckillEventParams & { startAt: Date | string; endAt: Date | string }): Promise<AdminSeckillEventDto> {
  const draft = { price: p.price, quantity: p.quantity, perUserLimit: p.perUserLimit, startAt: new Date(p.startAt), endAt: new Date(p.endAt) };
  const problems = draftProblems(draft);
  if (problems.length) throw validationError(problems);
  const [sku] = await callAction(h.broker, CatalogCalls.getSkus, { ids: [p.skuId] });
  const snapshot = sellableSnapshot(sku, p.skuId);
  await assertNoOverlap(h, p.skuId, draft, null);
  const s = h.db.sequelize;
  const eventId = await h.db.insertEvent({
    skuId: p.skuId,
    title: p.title,
    price: p.price,
    skuPrice: sku.price,
    currency: sku.currency,
    quantity: p.quantity,
    perUserLimit: p.perUserLimit,
    startAt: draft.startAt,
    endAt: draft.endAt,
    skuSnapshot: JSON.stringify(snapshot),
  });
  // refused: the sale was never created (no hold was taken, no ticket can exist)
  const drop = () => h.db.tx((t) => runUpdate(s, "DELETE FROM seckill_events WHERE id = ? AND status = 'PENDING'", [eventId], t));
  // two admins publishing overlapping sales at once: the older row wins
  try {
    await assertNoOverlap(h, p.skuId, draft, eventId);
  } catch (err) {
    await drop();
    throw err;
  }
  try {
    await callAction(h.broker, InventoryCalls.reserve, { reference: holdReference(eventId), lines: [{ skuId: p.skuId, quantity: p.quantity }] });
  } catch (err) {
    const type = errType(err);
    if (type === "INSUFFICIENT_STOCK" || type === "STOCK_NOT_FOUND") {
      await drop();
      const d = (err as { data?: { available?: number } }).data ?? {};
      throw bizError("SECKILL_STOCK_SHORT", `SKU ${p.skuId} has ${d.available ?? 0} units available, the sale needs ${p.quantity}`, { skuId: p.skuId, requested: p.quantity, available: d.available ?? 0 });
    }
    throw err; // the sweep cancels the PENDING row and gives back a hold that may exist
  }
  await h.db.tx((t) => runUpdate(s, "UPDATE seckill_events SET status = 'SCHEDULED', updated_at = ? WHERE id = ? AND status = 'PENDING'", [new Date(), eventId], t));
  const ev = (await h.db.event(eventId))!;
  await h.store.load(loadWindow(ev), { pool: ev.quantity, buyers: {}, tickets: {}, closedRemaining: null, accepted: 0 });
  h.onChanged(eventId);
  return adminDto(h, ev, draftWarnings(draft, sku.price, sku.currency));
}

async function assertNoOverlap(h: AdminHost, skuId: number, w: { startAt: Date; endAt: Date }, self: number | null) {
  const rows = await h.db.sequelize.query<Record<string, unknown>>(
    "SELECT * FROM seckill_events WHERE sku_id = ? AND status IN ('PENDING','SCHEDULED','ENDING') AND start_at < ? AND end_at > ? ORDER BY id",
    { replacements: [skuId, w.endAt, w.startAt], type: QueryTypes.SELECT },
  );
  const others = rows.map(rowOf).filter((r) => overlaps(r, w));
  const blocking = self === null ? others : others.filter((r) => r.id < self);
  if (blocking.length) throw bizError("SECKILL_OVERLAP", `sale ${blocking[0].id} of SKU ${skuId} overlaps this window`, { eventId: blocking[0].id });
}

export async function cancelEvent(h: AdminHost, id: number): Promise<AdminSeckillEventDto> {
  const s = h.db.sequelize;
  const n = await h.db.tx((t) =>
    runUpdate(s, "UPDATE seckill_events SET status = 'CANCELLED', updated_at = ? WHERE id = ? AND status = 'SCHEDULED' AND start_at > ?", [new Date(), id, new Date()], t),
  );
  const ev = await h.db.event(id);
  if (!ev || ev.status === "PENDING") throw bizError("SECKILL_EVENT_NOT_FOUND");
  if (n !== 1 && ev.status !== "CANCELLED") throw bizError("SECKILL_STATE_CONFLICT", `sale ${id} is ${phaseOf(ev)}; only an upcoming sale can be cancelled`, { status: phaseOf(ev) });
  await returnCancelled(h, ev);
  h.onChanged(id);
  return adminDto(h, (await h.db.event(id))!);
}

/** The whole hold of a cancelled sale back to stock (idempotent: release of a released hold is a no-op). */
async function returnCancelled(h: AdminHost, ev: EventRow) {
  await h.store.forget(ev.id);
  await callAction(h.broker, InventoryCalls.release, { reference: holdReference(ev.id), reason: "seckill sale cancelled" });
  await h.db.tx((t) => runUpdate(h.db.sequelize, "UPDATE seckill_events SET returned_units = ?, updated_at = ? WHERE id = ? AND returned_units IS NULL", [ev.quantity, new Date(), ev.id], t));
}

/**
 * One sweep: end sales whose window is over, finish sales left ENDING, give back cancelled
 * sales' holds and drop PENDING rows a dead node left behind. Returns the sales it ended.
 */
export async function sweep(h: AdminHost, now = new Date()): Promise<number[]> {
  const s = h.db.sequelize;
  // a read first: most passes find nothing to end, and need no write transaction
  const [{ due }] = await s.query<{ due: number | string }>("SELECT COUNT(*) AS due FROM seckill_events WHERE status = 'SCHEDULED' AND end_at <= ?", { replacements: [now], type: QueryTypes.SELECT });
  if (Number(due) > 0) {
    await h.db.tx((t) => runUpdate(s, "UPDATE seckill_events SET status = 'ENDING', updated_at = ? WHERE status = 'SCHEDULED' AND end_at <= ?", [now, now], t));
  }
  const ending = (await s.query<Record<string, unknown>>("SELECT * FROM seckill_events WHERE status = 'ENDING'", { type: QueryTypes.SELECT })).map(rowOf);
  const ended: number[] = [];
  for (const ev of ending) {
    try {
      await endSale(h, ev);
      ended.push(ev.id);
    } catch (err) {
      h.logger.warn(`seckill: ending sale ${ev.id} failed; the next sweep retries: ${(err as Error)?.message ?? err}`);
    }
  }
  const stale = new Date(now.getTime() - 60_000);
  const leftovers = (
    await s.query<Record<string, unknown>>(
      "SELECT * FROM seckill_events WHERE (status = 'CANCELLED' AND returned_units IS NULL) OR (status = 'PENDING' AND created_at < ?)",
      { replacements: [stale], type: QueryTypes.SELECT },
    )
  ).map(rowOf);
  for (const ev of leftovers) {
    try {
      if (ev.status === "PENDING") {
        await h.db.tx((t) => runUpdate(s, "UPDATE seckill_events SET status = 'CANCELLED', updated_at = ? WHERE id = ? AND status = 'PENDING'", [now, ev.id], t));
      }
      await returnCancelled(h, ev);
    } catch (err) {
      h.logger.warn(`seckill: giving back cancelled sale ${ev.id} failed; the next sweep retries: ${(err as Error)?.message ?? err}`);
    }
  }
  if (ended.length || leftovers.length) for (const id of [...ended, ...leftovers.map((e) => e.id)]) h.onChanged(id);
  return ended;
}

async function endSale(h: AdminHost, ev: EventRow) {
  let left = await h.store.close(ev.id);
  if (left === null) {
    // the store lost the sale: rebuild it (closed) from the database, then close
    await h.store.load(loadWindow(ev), await h.db.snapshot(ev));
    left = (await h.store.close(ev.id)) ?? 0;
  }
  if (left > 0) {
    try {
      await callAction(h.broker, InventoryCalls.releasePart, { reference: holdReference(ev.id), key: "end", quantity: left });
    } catch (err) {
      if (errType(err) !== "RESERVATION_REFERENCE_CONFLICT") throw err;
    }
  }
  await h.db.tx((t) =>
    runUpdate(h.db.sequelize, "UPDATE seckill_events SET status = 'ENDED', returned_units = ?, updated_at = ? WHERE id = ? AND status = 'ENDING'", [left, new Date(), ev.id], t),
  );
  h.logger.info(`seckill: sale ${ev.id} ended; ${left} unsold units back to stock`);
}

export const PHASES: EventPhase[] = ["upcoming", "active", "ended", "cancelled"];
