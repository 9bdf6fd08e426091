/**
 * The points ledger (DESIGN "Holds"): a balance and a frozen amount per user, an append-only
 * ledger, and per order the points it holds.
 *
 * Every change of a balance is one conditional UPDATE whose WHERE keeps both amounts at or above
 * zero (`balance >= n` decides, never a value read earlier), plus one ledger row, in one
 * transaction. Each change happens at most once: an order's hold moves FROZEN → RELEASED or
 * FROZEN → SPENT by compare-and-set on `points_orders.status`, payment is applied once by a
 * compare-and-set on `paid_at`, each refund once per refund id, and the ledger's unique
 * (reference, kind) refuses any second entry of the same change whatever slipped through.
 *
 * An unfreeze that finds no hold leaves a RELEASED marker for the order: a freeze that lands
 * after its caller gave up and compensated (a timeout) then finds the marker and refuses
 * (POINTS_HOLD_RELEASED) instead of holding points for an order that will never exist.
 *
 * The `…In(t, …)` methods work inside the caller's transaction (channel handlers run them inside
 * OutboxMixin.once); the others open their own.
 */
import { Errors } from "moleculer";
import type { Sequelize, Transaction } from "sequelize";
import type { PointsEntryAttrs, PointsModels } from "../../models/marketing-points";
import { isUniqueViolation, runUpdate, withRetriedTransaction } from "../shared/db";
import { bizError, retryableError } from "../shared/errors";
import type { OrderCancelledEvent, OrderPaidEvent, OrderRefundedEvent } from "../orders/orders.contracts";
import type { FreezePointsParams, UnfreezePointsParams } from "./marketing.contracts";
import { pointsEarned, refundShare, takeBack } from "./domain/points";
import type { PointsEntryDto, PointsGrantResult, PointsHoldResult, PointsHoldStatus, PointsKind, PointsView } from "./points.contracts";

export interface PointsHost {
  sequelize: Sequelize;
  models: PointsModels;
  logger: { warn(msg: string): void; error(msg: string): void };
}

interface NewEntry {
  userId: number;
  kind: PointsKind;
  delta: number;
  frozenDelta: number;
  reason: string;
  reference: string;
  orderNo: string | null;
}

export function entryDto(e: PointsEntryAttrs): PointsEntryDto {
  return {
    id: Number(e.id),
    kind: e.kind,
    delta: Number(e.delta),
    frozenDelta: Number(e.frozenDelta),
    balanceAfter: Number(e.balanceAfter),
    reason: e.reason,
    ...(e.orderNo ? { orderNo: e.orderNo } : {}),
    at: new Date(e.createdAt).toISOString(),
  };
}

const refundReference = (refundId: string) => `refund:${refundId}`;

/** A guarded update that must match (its precondition was established in the same transaction). */
function inconsistent(what: string, data: Record<string, unknown>) {
  return new Errors.MoleculerServerError(`points ledger: ${what}`, 500, "INTERNAL_ERROR", data);
}

export class PointsStore {
  // the host is read on every call: DbMixin may set its sequelize and models after this is built
  constructor(private host: PointsHost) {}

  private get m() {
    return this.host.models;
  }

  private get s() {
    return this.host.sequelize;
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────

  async balanceOf(userId: number): Promise<number> {
    const acct = await this.m.PointsAccount.findByPk(userId);
    return acct ? Number(acct.balance) : 0;
  }

  async view(userId: number, page: number, pageSize: number): Promise<PointsView> {
    const [acct, { rows, count }] = await Promise.all([
      this.m.PointsAccount.findByPk(userId),
      this.m.PointsEntry.findAndCountAll({ where: { userId }, order: [["id", "DESC"]], limit: pageSize, offset: (page - 1) * pageSize }),
    ]);
    return { balance: Number(acct?.balance ?? 0), frozen: Number(acct?.frozen ?? 0), entries: rows.map(entryDto), total: count, page, pageSize };
  }

  // ── holds (called by checkout through marketing.freezePoints / unfreezePoints) ────────────

  async freeze(p: FreezePointsParams): Promise<PointsHoldResult> {
    const seen = await this.existingHold(p);
    if (seen) return seen;
    try {
      return await withRetriedTransaction(this.s, async (t) => {
        await this.m.PointsOrder.create({ orderNo: p.orderNo, userId: p.userId, points: p.points, status: "FROZEN" }, { transaction: t });
        if (!(await this.move(t, p.userId, -p.points, p.points))) {
          const acct = await this.m.PointsAccount.findByPk(p.userId, { transaction: t });
          throw bizError("INSUFFICIENT_POINTS", undefined, { balance: Number(acct?.balance ?? 0), requested: p.points });
        }
        const reason = `held for order ${p.orderNo}`;
        await this.record(t, { userId: p.userId, kind: "FREEZE", delta: -p.points, frozenDelta: p.points, reason, reference: p.orderNo, orderNo: p.orderNo });
        return { orderNo: p.orderNo, points: p.points, status: "FROZEN" as const, applied: true };
      });
    } catch (err) {
      // a concurrent freeze of the same order won: answer as it did
      if (isUniqueViolation(err)) {
        const won = await this.existingHold(p);
        if (won) return won;
      }
      throw err;
    }
  }

  async unfreeze(p: UnfreezePointsParams): Promise<PointsHoldResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withRetriedTransaction(this.s, async (t) => {
          const released = await this.releaseIn(t, p.orderNo, p.reason);
          if (released) return released;
          await this.m.PointsOrder.create({ orderNo: p.orderNo, userId: null, points: 0, status: "RELEASED" }, { transaction: t });
          return { orderNo: p.orderNo, points: 0, status: "RELEASED" as const, applied: false };
        });
      } catch (err) {
        // a freeze of this order committed between our look and our marker: release that one
        if (!isUniqueViolation(err) || attempt >= 3) throw err;
      }
    }
  }

  /** FROZEN → RELEASED once; null when the order has no points row at all. */
  async releaseIn(t: Transaction, orderNo: string, reason: string): Promise<PointsHoldResult | null> {
    const changed = await runUpdate(this.s, "UPDATE points_orders SET status = 'RELEASED', updated_at = ? WHERE order_no = ? AND status = 'FROZEN'", [new Date(), orderNo], t);
    const row = await this.m.PointsOrder.findByPk(orderNo, { transaction: t });
    if (!row) return null;
    const points = Number(row.points);
    if (changed === 0) return { orderNo, points, status: row.status, applied: false };
    const userId = Number(row.userId);
    if (!(await this.move(t, userId, points, -points))) throw inconsistent(`order ${orderNo} held more points than are frozen`, { orderNo, userId, points });
    await this.record(t, { userId, kind: "UNFREEZE", delta: points, frozenDelta: -points, reason, reference: orderNo, orderNo });
    return { orderNo, points, status: "RELEASED", applied: true };
  }

  private async existingHold(p: FreezePointsParams): Promise<PointsHoldResult | null> {
    const row = await this.m.PointsOrder.findByPk(p.orderNo);
    if (!row) return null;
    if (row.status === "RELEASED") throw bizError("POINTS_HOLD_RELEASED", undefined, { orderNo: p.orderNo });
    if (Number(row.userId) !== p.userId || Number(row.points) !== p.points) {
      throw bizError("POINTS_REFERENCE_CONFLICT", `order ${p.orderNo} already holds other points`, { orderNo: p.orderNo });
    }
    return { orderNo: p.orderNo, points: Number(row.points), status: row.status as PointsHoldStatus, applied: false };
  }

  // ── order facts (channel handlers, inside OutboxMixin.once) ─────────────────────────────

  /** order.paid: the frozen points are spent, and points are earned on what was paid. Once per order. */
  async paidIn(t: Transaction, d: OrderPaidEvent): Promise<void> {
    const now = new Date();
    // an orders node older than the richer event sends `amount` only (the same money)
    const payable = Number.isSafeInteger(d.payable) ? d.payable : d.amount;
    if (!Number.isSafeInteger(payable) || payable < 0) {
      this.host.logger.error(`order.paid for ${d.orderNo} carries no amount paid; no points moved`);
      return;
    }
    const heldPoints = d.holds?.points ?? 0;
    const earned = pointsEarned(payable);
    const first = await runUpdate(
      this.s,
      "UPDATE points_orders SET paid_at = ?, payable = ?, earned = ?, updated_at = ? WHERE order_no = ? AND paid_at IS NULL",
      [now, payable, earned, now, d.orderNo],
      t,
    );
    if (first === 1) {
      await this.spendIn(t, d.orderNo, heldPoints);
    } else {
      if (await this.m.PointsOrder.findByPk(d.orderNo, { transaction: t })) return; // paid before
      if (heldPoints > 0) this.host.logger.error(`order ${d.orderNo} was paid with ${heldPoints} points that were never frozen here; none spent`);
      await this.m.PointsOrder.create({ orderNo: d.orderNo, userId: d.userId, points: 0, status: "SPENT", payable, earned, paidAt: now }, { transaction: t });
    }
    if (earned > 0) {
      await this.credit(t, d.userId, earned);
      await this.record(t, { userId: d.userId, kind: "EARN", delta: earned, frozenDelta: 0, reason: `earned on order ${d.orderNo}`, reference: d.orderNo, orderNo: d.orderNo });
    }
  }

  private async spendIn(t: Transaction, orderNo: string, heldPoints: number): Promise<void> {
    const spent = await runUpdate(this.s, "UPDATE points_orders SET status = 'SPENT', updated_at = ? WHERE order_no = ? AND status = 'FROZEN'", [new Date(), orderNo], t);
    const row = await this.m.PointsOrder.findByPk(orderNo, { transaction: t });
    const points = Number(row?.points ?? 0);
    if (spent === 1) {
      const userId = Number(row!.userId);
      if (!(await this.move(t, userId, 0, -points))) throw inconsistent(`order ${orderNo} spends more points than are frozen`, { orderNo, userId, points });
      await this.record(t, { userId, kind: "SPEND", delta: 0, frozenDelta: -points, reason: `spent on order ${orderNo}`, reference: orderNo, orderNo });
    } else if (heldPoints > 0) {
      // the pipeline gives points back only for orders that can no longer be paid: say so loudly
      this.host.logger.error(`order ${orderNo} was paid but its points hold is ${row?.status ?? "missing"}; ${heldPoints} points not spent`);
    }
  }

  /** order.cancelled: the frozen points go back to the balance (a no-op when none are held). */
  async cancelledIn(t: Transaction, d: OrderCancelledEvent): Promise<void> {
    await this.releaseIn(t, d.orderNo, `order ${d.orderNo} cancelled: ${d.reason}`);
  }

  /**
   * order.refunded: the refund's share of the spent points comes back, and the same share of the
   * earned points is taken back (after the return is credited, so it can cover it). What the
   * buyer no longer has is not taken: the balance never goes below zero, and the shortfall is
   * recorded on the refund and in the ledger entry's reason. Once per refund id.
   */
  async refundedIn(t: Transaction, d: OrderRefundedEvent): Promise<void> {
    const refundId = String(d.refundId);
    if (d.refundId === undefined || d.refundId === null || !Number.isSafeInteger(d.amount) || d.amount <= 0) {
      this.host.logger.error(`order.refunded for ${d.orderNo} has no refund id or amount; no points moved`);
      return;
    }
    if (await this.m.PointsRefund.findByPk(refundId, { transaction: t })) return;
    const order = await this.m.PointsOrder.findByPk(d.orderNo, { transaction: t });
    // the channels are separate streams: this refund may overtake the order's payment
    if (!order?.paidAt) throw retryableError(`order ${d.orderNo} was refunded before its payment reached the points ledger; retrying`);
    const moved = await runUpdate(
      this.s,
      "UPDATE points_orders SET refunded_amount = refunded_amount + ?, updated_at = ? WHERE order_no = ? AND refunded_amount + ? <= payable",
      [d.amount, new Date(), d.orderNo, d.amount],
      t,
    );
    let returned = 0;
    let revoked = 0;
    let shortfall = 0;
    if (moved === 0) {
      this.host.logger.error(`refund ${refundId} of order ${d.orderNo}: ${d.amount} fen is more than is left to refund; no points moved`);
    } else {
      const o = (await this.m.PointsOrder.findByPk(d.orderNo, { transaction: t }))!;
      const payable = Number(o.payable);
      const before = Number(o.refundedAmount) - d.amount;
      returned = refundShare(o.status === "SPENT" ? Number(o.points) : 0, payable, before, d.amount);
      const wanted = refundShare(Number(o.earned), payable, before, d.amount);
      const reference = refundReference(refundId);
      if (returned > 0) {
        await this.credit(t, d.userId, returned);
        await this.record(t, { userId: d.userId, kind: "RETURN", delta: returned, frozenDelta: 0, reason: `refund ${refundId} of order ${d.orderNo}: spent points returned`, reference, orderNo: d.orderNo });
      }
      if (wanted > 0) ({ taken: revoked, shortfall } = await this.revokeIn(t, d.userId, wanted, reference, `refund ${refundId} of order ${d.orderNo}`, d.orderNo));
    }
    await this.m.PointsRefund.create({ refundId, orderNo: d.orderNo, userId: d.userId, amount: d.amount, returned, revoked, shortfall }, { transaction: t });
  }

  private async revokeIn(t: Transaction, userId: number, wanted: number, reference: string, what: string, orderNo: string) {
    // a locking read: the amount taken is decided on the current balance, which stays ours until commit
    const acct = await this.m.PointsAccount.findByPk(userId, { transaction: t, lock: t.LOCK.UPDATE });
    const result = takeBack(wanted, Number(acct?.balance ?? 0));
    if (result.taken > 0 && !(await this.move(t, userId, -result.taken, 0))) throw inconsistent(`cannot take back ${result.taken} points`, { userId, reference });
    const reason = result.shortfall
      ? `${what}: ${wanted} earned points to take back, ${result.shortfall} of them no longer in the balance (not taken)`
      : `${what}: earned points taken back`;
    if (acct) await this.record(t, { userId, kind: "REVOKE", delta: -result.taken, frozenDelta: 0, reason, reference, orderNo });
    return result;
  }

  // ── admin ────────────────────────────────────────────────────────────────────────────────

  /** Give a user points, once per reference. */
  async grant(userId: number, points: number, reason: string, reference: string): Promise<PointsGrantResult> {
    const seen = await this.existingGrant(userId, points, reference);
    if (seen) return seen;
    try {
      return await withRetriedTransaction(this.s, async (t) => {
        await this.credit(t, userId, points);
        const entry = await this.record(t, { userId, kind: "GRANT", delta: points, frozenDelta: 0, reason, reference, orderNo: null });
        const acct = (await this.m.PointsAccount.findByPk(userId, { transaction: t }))!;
        return { balance: Number(acct.balance), frozen: Number(acct.frozen), entry, applied: true };
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        const won = await this.existingGrant(userId, points, reference);
        if (won) return won;
      }
      throw err;
    }
  }

  private async existingGrant(userId: number, points: number, reference: string): Promise<PointsGrantResult | null> {
    const prior = await this.m.PointsEntry.findOne({ where: { reference, kind: "GRANT" } });
    if (!prior) return null;
    if (Number(prior.userId) !== userId || Number(prior.delta) !== points) throw bizError("POINTS_REFERENCE_CONFLICT", undefined, { reference });
    const acct = await this.m.PointsAccount.findByPk(userId);
    return { balance: Number(acct?.balance ?? 0), frozen: Number(acct?.frozen ?? 0), entry: entryDto(prior), applied: false };
  }

  // ── primitives ───────────────────────────────────────────────────────────────────────────

  /**
   * balance += delta, frozen += frozenDelta in one conditional UPDATE that refuses to take
   * either below zero. False when refused (or when the user has no account yet).
   */
  private async move(t: Transaction, userId: number, delta: number, frozenDelta: number): Promise<boolean> {
    const changed = await runUpdate(
      this.s,
      "UPDATE points_accounts SET balance = balance + ?, frozen = frozen + ?, updated_at = ? WHERE user_id = ? AND balance >= ? AND frozen >= ?",
      [delta, frozenDelta, new Date(), userId, Math.max(0, -delta), Math.max(0, -frozenDelta)],
      t,
    );
    return changed === 1;
  }

  /** Add to the balance, opening the account on the user's first points. */
  private async credit(t: Transaction, userId: number, points: number): Promise<void> {
    if (await this.move(t, userId, points, 0)) return;
    await this.m.PointsAccount.bulkCreate([{ userId, balance: 0, frozen: 0 }], { ignoreDuplicates: true, transaction: t });
    if (!(await this.move(t, userId, points, 0))) throw inconsistent(`cannot credit user ${userId}`, { userId, points });
  }

  private async record(t: Transaction, e: NewEntry): Promise<PointsEntryDto> {
    // a locking read returns the balance as our own update left it, not an older snapshot
    const acct = await this.m.PointsAccount.findByPk(e.userId, { transaction: t, lock: t.LOCK.UPDATE });
    const row = await this.m.PointsEntry.create({ ...e, balanceAfter: Number(acct?.balance ?? 0) }, { transaction: t });
    return entryDto(row.get({ plain: true }) as PointsEntryAttrs);
  }
}
