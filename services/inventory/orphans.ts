/**
 * Orphaned reservations. Checkout reserves stock before it writes the order; when the order is
 * never written and the compensating release is lost as well (the reserve timed out and the
 * release with it, the orders node died between the two), the units stay reserved forever.
 *
 * Every inventory node runs `releaseOrphans` on a timer: OPEN reservations older than the grace
 * period (longer than any checkout can take) whose reference is an order number are checked
 * with orders — inventory reads only its own tables — and those whose order does not exist are
 * released. Nodes may find the same orphan at once; the release is the reservation's usual
 * compare-and-set, so exactly one of them releases (and counts) it.
 */
import { isOrderNo } from "../orders/orders.contracts";
import type { Reservation } from "./inventory.contracts";
import type { Changed, StockStore } from "./stock-store";
import { callAction } from "../shared/actions";
import { OrderCalls } from "../orders/orders.contracts";

export interface OrphanHost {
  store: StockStore;
  graceMs: number;
  broker: { call<T, P>(action: string, params: P): Promise<T> };
  logger: { warn(...a: unknown[]): void };
  /** a release this node won */
  onReleased(change: Changed<Reservation>): void;
}

/** References asked about per call to orders (its action takes at most 500). */
const BATCH = 200;
export const ORPHAN_REASON = "orphaned: no order after the grace period";

const errType = (err: unknown) => (err as { type?: string })?.type;

/** One pass over every OPEN reservation past the grace period. Returns how many this node released. */
export async function releaseOrphans(host: OrphanHost, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - host.graceMs);
  let released = 0;
  for (let afterId = 0; ; ) {
    const page = await host.store.openReservations(cutoff, afterId, BATCH);
    if (!page.length) return released;
    afterId = page[page.length - 1].id;
    // other owners' holds (not order numbers) are not ours to judge
    const candidates = page.map((r) => r.reference).filter(isOrderNo);
    // no answer from orders, no release: the call throws and the pass ends here
    const known = new Set(candidates.length ? await callAction(host.broker, OrderCalls.existing, { orderNos: candidates }) : []);
    for (const reference of candidates.filter((r) => !known.has(r))) {
      if (await releaseOne(host, reference)) released++;
    }
    if (page.length < BATCH) return released;
  }
}

async function releaseOne(host: OrphanHost, reference: string): Promise<boolean> {
  try {
    const change = await host.store.transition("release", reference, ORPHAN_REASON);
    // skuIds are only reported by the call whose compare-and-set won
    if (!change.skuIds.length) return false;
    host.onReleased(change);
    return true;
  } catch (err) {
    if (errType(err) !== "RESERVATION_STATE_CONFLICT") throw err;
    host.logger.warn(`reservation ${reference} has no order but is no longer open; left alone`);
    return false;
  }
}
