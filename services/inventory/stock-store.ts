/**
 * Persistence of the inventory service. Every change of `stock` or of a reservation's status is a
 * conditional UPDATE whose affected-row count decides (never read-modify-write), and writes its
 * movement rows — and, when available stock falls through the threshold, an outbox event — in the
 * same transaction.
 *
 * Concurrency on MySQL/MariaDB: a reservation updates stock rows in ascending skuId order (so
 * reservations over the same SKUs never wait on each other in a cycle) and inserts its
 * `reservations` row last, where the unique key on `reference` turns concurrent duplicates into
 * rollbacks that read the winner. Release/commit/return are a compare-and-set on the reservation's
 * status, then the same ordered stock updates. On SQLite `withTransaction` serialises writers, so
 * the same statements are trivially safe there.
 */
import { Errors } from "moleculer";
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import type { InventoryModels } from "../../models/inventory";
import { isUniqueViolation, runUpdate, wholeSecond, withRetriedTransaction } from "../shared/db";
import { bizError, validationError } from "../shared/errors";
import { HoldPart, InventoryEvents, InventoryLowEvent, MovementType, Reservation, ReservationStatus, StockLevel, StockLine, StockMovement } from "./inventory.contracts";
import { sameLines } from "./domain/lines";
import { ReservationAction, TRANSITIONS, outcomeOfLostUpdate } from "./domain/reservation-state";
import { StockRow, crossedBelow, toLevel } from "./domain/stock-level";

/** on_hand is an INT column; stay well inside it so no statement can overflow. */
export const MAX_ON_HAND = 2_000_000_000;

export interface StoreDeps {
  sequelize: Sequelize;
  models: InventoryModels;
  /** OutboxMixin's `outbox` bound to the service */
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
}

/** Result of a write: what to answer, and which SKUs changed (for the cache broadcast). */
export interface Changed<T> {
  value: T;
  skuIds: number[];
}

interface Movement {
  skuId: number;
  type: MovementType;
  onHandDelta: number;
  reservedDelta: number;
  reason?: string | null;
  reference?: string | null;
}

/** Stock effect of each reservation transition, per line (quantity q > 0). */
const LINE_EFFECT: Record<ReservationAction, { sql: string; params(q: number, now: Date, skuId: number): unknown[]; movement: (q: number) => Pick<Movement, "type" | "onHandDelta" | "reservedDelta"> }> = {
  release: {
    sql: "UPDATE stock SET reserved = reserved - ?, updated_at = ? WHERE sku_id = ? AND reserved >= ?",
    params: (q, now, skuId) => [q, now, skuId, q],
    movement: (q) => ({ type: "release", onHandDelta: 0, reservedDelta: -q }),
  },
  commit: {
    sql: "UPDATE stock SET on_hand = on_hand - ?, reserved = reserved - ?, updated_at = ? WHERE sku_id = ? AND reserved >= ?",
    params: (q, now, skuId) => [q, q, now, skuId, q],
    movement: (q) => ({ type: "commit", onHandDelta: -q, reservedDelta: -q }),
  },
  return: {
    sql: "UPDATE stock SET on_hand = on_hand + ?, updated_at = ? WHERE sku_id = ? AND on_hand + ? <= ?",
    params: (q, now, skuId) => [q, now, skuId, q, MAX_ON_HAND],
    movement: (q) => ({ type: "return", onHandDelta: q, reservedDelta: 0 }),
  },
};

const iso = (d: Date | string) => new Date(d).toISOString();

export class StockStore {
  constructor(private deps: StoreDeps) {}

  private get m() {
    return this.deps.models;
  }

  /**
   * A transaction, retried from the start on a deadlock or lock-wait timeout (MySQL can pick a
   * victim even with ordered locking, e.g. two duplicates of a reference whose first try failed).
   */
  async tx<T>(fn: (t: Transaction) => Promise<T>, attempts = 5): Promise<T> {
    return withRetriedTransaction(this.deps.sequelize, fn, attempts);
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────

  async level(skuId: number, t?: Transaction): Promise<StockLevel | null> {
    // FOR UPDATE inside a write transaction: the current row, not a snapshot (ignored on SQLite)
    const row = await this.m.Stock.findByPk(skuId, { raw: true, transaction: t, lock: t ? Transaction.LOCK.UPDATE : undefined });
    return row ? toLevel(row) : null;
  }

  async mustLevel(skuId: number, t?: Transaction): Promise<StockLevel> {
    const level = await this.level(skuId, t);
    if (!level) throw bizError("STOCK_NOT_FOUND", `no stock record for SKU ${skuId}`, { skuId });
    return level;
  }

  async levels(skuIds: number[]): Promise<StockLevel[]> {
    if (!skuIds.length) return [];
    const rows = await this.m.Stock.findAll({ where: { skuId: skuIds }, raw: true, order: [["skuId", "ASC"]] });
    return rows.map(toLevel);
  }

  async lowStock(page: number, pageSize: number): Promise<{ items: StockLevel[]; total: number }> {
    const s = this.deps.sequelize;
    const where = "WHERE on_hand - reserved <= low_stock_threshold";
    const [rows, counted] = await Promise.all([
      s.query<StockRow>(
        `SELECT sku_id AS skuId, on_hand AS onHand, reserved, low_stock_threshold AS lowStockThreshold FROM stock ${where}
         ORDER BY on_hand - reserved ASC, sku_id ASC LIMIT ? OFFSET ?`,
        { replacements: [pageSize, (page - 1) * pageSize], type: QueryTypes.SELECT },
      ),
      s.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM stock ${where}`, { type: QueryTypes.SELECT }),
    ]);
    return { items: rows.map(toLevel), total: Number(counted[0]?.n ?? 0) };
  }

  async movements(skuId: number, page: number, pageSize: number): Promise<{ items: StockMovement[]; total: number }> {
    const { rows, count } = await this.m.StockMovement.findAndCountAll({
      where: { skuId },
      order: [["id", "DESC"]],
      limit: pageSize,
      offset: (page - 1) * pageSize,
    });
    return {
      total: count,
      items: rows.map((r) => ({
        id: Number(r.id),
        skuId: Number(r.skuId),
        type: r.type as MovementType,
        onHandDelta: Number(r.onHandDelta),
        reservedDelta: Number(r.reservedDelta),
        reason: r.reason,
        reference: r.reference,
        createdAt: iso(r.createdAt),
      })),
    };
  }

  async reservation(reference: string, t?: Transaction): Promise<(Reservation & { id: number }) | null> {
    const r = await this.m.Reservation.findOne({ where: { reference }, transaction: t });
    if (!r) return null;
    const lines = await this.m.ReservationLine.findAll({ where: { reservationId: r.id }, order: [["skuId", "ASC"]], transaction: t, raw: true });
    return {
      id: Number(r.id),
      reference: r.reference,
      status: r.status as ReservationStatus,
      lines: lines.map((l) => ({ skuId: Number(l.skuId), quantity: Number(l.quantity) })),
      createdAt: iso(r.createdAt),
      updatedAt: iso(r.updatedAt),
    };
  }

  /** OPEN reservations made at or before `cutoff`, in id order after `afterId` (keyset paging). */
  async openReservations(cutoff: Date, afterId: number, limit: number): Promise<{ id: number; reference: string }[]> {
    const rows = await this.deps.sequelize.query<{ id: number | string; reference: string }>(
      "SELECT id, reference FROM reservations WHERE status = 'OPEN' AND id > ? AND created_at <= ? ORDER BY id LIMIT ?",
      { replacements: [afterId, cutoff, limit], type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ id: Number(r.id), reference: r.reference }));
  }

  // ── writes ───────────────────────────────────────────────────────────────────────────────

  private async record(t: Transaction, moves: Movement[]): Promise<void> {
    if (!moves.length) return;
    // one multi-row INSERT, no model instances
    const now = new Date();
    await this.deps.sequelize.query(
      "INSERT INTO stock_movements (sku_id, type, on_hand_delta, reserved_delta, reason, reference, created_at) VALUES " +
        moves.map(() => "(?, ?, ?, ?, ?, ?, ?)").join(", "),
      {
        replacements: moves.flatMap((mv) => [mv.skuId, mv.type, mv.onHandDelta, mv.reservedDelta, mv.reason ?? null, mv.reference ?? null, now]),
        transaction: t,
        type: QueryTypes.INSERT,
      },
    );
  }

  /**
   * After a conditional update took `decrease` units off available stock: read the row we now
   * hold locked and, if available fell from above the threshold to at-or-below it, queue
   * `inventory.low` in this transaction. Exactly one transaction sees each crossing, because the
   * row lock orders them.
   */
  private async afterDecrease(t: Transaction, skuId: number, decrease: number): Promise<void> {
    const now = await this.mustLevel(skuId, t);
    if (crossedBelow(now.available + decrease, now.available, now.lowStockThreshold)) {
      const event: InventoryLowEvent = { skuId, available: now.available, threshold: now.lowStockThreshold };
      await this.deps.outbox(t, InventoryEvents.LOW, event);
    }
  }

  /** Create the stock row if absent. Returns the row and whether this call created it. */
  async init(skuId: number, onHand: number, lowStockThreshold: number): Promise<{ level: StockLevel; created: boolean }> {
    const created = await this.tx(async (t) => {
      try {
        await this.m.Stock.create({ skuId, onHand, reserved: 0, lowStockThreshold }, { transaction: t });
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
      if (onHand > 0) await this.record(t, [{ skuId, type: "adjust", onHandDelta: onHand, reservedDelta: 0, reason: "initial stock" }]);
      return true;
    });
    return { level: await this.mustLevel(skuId), created };
  }

  /**
   * Reserve all `lines` (already merged and sorted) or none. A reference seen before returns
   * that reservation (RESERVATION_REFERENCE_CONFLICT if the lines differ).
   *
   * The stock rows are updated first and the reservation row is inserted last, in one
   * transaction. Concurrent calls with one reference therefore queue on the first stock row
   * (a single lock, no cycle) and the unique key on `reference` turns every one but the first
   * into a rollback that then reads the winner. (Inserting the reservation first makes the
   * waiters deadlock on the unique key whenever the first attempt rolls back.)
   */
  async reserve(reference: string, lines: StockLine[]): Promise<Changed<Reservation>> {
    // No pre-check for an earlier reservation with this reference: a repeat runs the same
    // transaction, loses on the unique key (or on stock), rolls back and answers with the winner
    // in the catch below. A fresh reference — every checkout — saves a SELECT.
    // whole seconds: what a DATETIME column keeps, so the answer equals a later read
    const now = wholeSecond();
    try {
      await this.tx(async (t) => {
        for (const { skuId, quantity } of lines) {
          // Usual case first: available stays above the threshold, so no `inventory.low` can be
          // due and the row needs no re-read. (after > threshold implies before > threshold.)
          const clear = await runUpdate(
            this.deps.sequelize,
            "UPDATE stock SET reserved = reserved + ?, updated_at = ? WHERE sku_id = ? AND on_hand - reserved >= ? AND on_hand - reserved > low_stock_threshold + ?",
            [quantity, now, skuId, quantity, quantity],
            t,
          );
          if (clear === 1) continue;
          // at or below the threshold afterwards (or not enough stock): the general path, with
          // the locked re-read that decides the crossing
          const n = await runUpdate(
            this.deps.sequelize,
            "UPDATE stock SET reserved = reserved + ?, updated_at = ? WHERE sku_id = ? AND on_hand - reserved >= ?",
            [quantity, now, skuId, quantity],
            t,
          );
          if (n === 0) {
            const level = await this.mustLevel(skuId, t);
            const available = Math.max(0, level.available);
            throw bizError("INSUFFICIENT_STOCK", `only ${available} of SKU ${skuId} available, ${quantity} requested`, { skuId, requested: quantity, available });
          }
          await this.afterDecrease(t, skuId, quantity);
        }
        // the unique key decides between concurrent calls with this reference: a duplicate
        // throws here and rolls its stock updates back
        const s = this.deps.sequelize;
        await s.query("INSERT INTO reservations (reference, status, created_at, updated_at) VALUES (?, 'OPEN', ?, ?)", {
          replacements: [reference, now, now],
          transaction: t,
          type: QueryTypes.INSERT,
        });
        // the lines take the new row's id by its unique reference (no insert-id round trip)
        await s.query(
          "INSERT INTO reservation_lines (reservation_id, sku_id, quantity) " +
            lines.map(() => "SELECT id, ?, ? FROM reservations WHERE reference = ?").join(" UNION ALL "),
          { replacements: lines.flatMap((l) => [l.skuId, l.quantity, reference]), transaction: t, type: QueryTypes.INSERT },
        );
        await this.record(
          t,
          lines.map((l) => ({ skuId: l.skuId, type: "reserve", onHandDelta: 0, reservedDelta: l.quantity, reference })),
        );
      });
    } catch (err) {
      // lost to a concurrent call with this reference (duplicate key, or the winner took the
      // stock this call queued for): answer with the winner's reservation
      const winner = await this.reservation(reference);
      if (winner) return { value: this.sameRequest(winner, lines), skuIds: [] };
      throw err;
    }
    // committed as written: answer from what was inserted rather than reading it back
    const at = now.toISOString();
    const mine: Reservation = { reference, status: "OPEN", lines: [...lines].sort((a, b) => a.skuId - b.skuId).map((l) => ({ skuId: l.skuId, quantity: l.quantity })), createdAt: at, updatedAt: at };
    return { value: mine, skuIds: lines.map((l) => l.skuId) };
  }

  /** An existing reservation answers a request with the same reference only if it asked for the same lines. */
  private sameRequest(existing: Reservation, lines: StockLine[]): Reservation {
    if (existing.status === "RELEASED" && existing.lines.length === 0) {
      throw bizError("RESERVATION_STATE_CONFLICT", `reference ${existing.reference} was released before it was reserved`, {
        reference: existing.reference,
        status: existing.status,
      });
    }
    if (!sameLines(existing.lines, lines)) {
      throw bizError("RESERVATION_REFERENCE_CONFLICT", `reference ${existing.reference} was already used for different lines`, {
        reference: existing.reference,
      });
    }
    return strip(existing);
  }

  /**
   * Move a reservation along `action` (compare-and-set on its status), then apply its lines to
   * stock. A lost compare-and-set is an idempotent repeat or a conflict (domain/reservation-state).
   */
  async transition(action: ReservationAction, reference: string, reason?: string): Promise<Changed<Reservation>> {
    const { from, to } = TRANSITIONS[action];
    const effect = LINE_EFFECT[action];
    const won = await this.tx(async (t) => {
      const now = new Date();
      const changed = await runUpdate(
        this.deps.sequelize,
        "UPDATE reservations SET status = ?, updated_at = ? WHERE reference = ? AND status = ?",
        [to, now, reference, from],
        t,
      );
      if (changed === 0) return null;
      const r = (await this.reservation(reference, t))!;
      for (const { skuId, quantity } of r.lines) {
        const n = await runUpdate(this.deps.sequelize, effect.sql, effect.params(quantity, now, skuId), t);
        // the reservation holds these units, so this cannot fail unless the data is corrupt
        if (n !== 1) {
          throw new Errors.MoleculerServerError(`stock of SKU ${skuId} cannot ${action} ${quantity} units of ${reference}`, 500, "INTERNAL_ERROR", {
            skuId,
            reference,
          });
        }
      }
      await this.record(
        t,
        r.lines.map((l) => ({ skuId: l.skuId, ...effect.movement(l.quantity), reason: reason ?? null, reference })),
      );
      return r;
    });
    // read after its own UPDATE, the winner's row is what it committed: no second read
    if (won) return { value: strip(won), skuIds: won.lines.map((l) => l.skuId) };
    const current = await this.reservation(reference);
    if (!current) {
      if (action === "release") return this.releaseUnknown(reference, reason);
      throw bizError("RESERVATION_NOT_FOUND", `no reservation ${reference}`, { reference });
    }
    if (outcomeOfLostUpdate(action, current.status) === "conflict") {
      throw bizError("RESERVATION_STATE_CONFLICT", `reservation ${reference} is ${current.status}; cannot ${action} it`, {
        reference,
        status: current.status,
      });
    }
    return { value: strip(current), skuIds: [] };
  }

  /**
   * Releasing a reference that has no reservation leaves a RELEASED marker with no lines. A
   * caller whose reserve timed out releases to be safe; if that reserve was still on its way,
   * it now meets the marker on the unique key and reserves nothing, instead of leaving an OPEN
   * reservation that nobody will ever release.
   */
  private async releaseUnknown(reference: string, reason?: string): Promise<Changed<Reservation>> {
    const now = wholeSecond();
    try {
      await this.deps.sequelize.query("INSERT INTO reservations (reference, status, created_at, updated_at) VALUES (?, 'RELEASED', ?, ?)", {
        replacements: [reference, now, now],
        type: QueryTypes.INSERT,
      });
    } catch (err) {
      // the reserve committed first after all: release it the normal way
      if (isUniqueViolation(err)) return this.transition("release", reference, reason);
      throw err;
    }
    const at = now.toISOString();
    return { value: { reference, status: "RELEASED", lines: [], createdAt: at, updatedAt: at }, skuIds: [] };
  }

  /**
   * Commit or release `quantity` units of an OPEN hold (a reservation held for another owner, e.g.
   * a flash sale's `seckill:<id>`), once per `key`: the part row's unique key picks one winner
   * and a repeat answers with the first part. The hold's line shrinks by a conditional UPDATE
   * (never below zero: HOLD_SHORT), and stock moves as a whole commit or release would.
   */
  async holdPart(action: "commit" | "release", reference: string, key: string, quantity: number): Promise<Changed<HoldPart>> {
    const s = this.deps.sequelize;
    const existing = async (): Promise<HoldPart | null> => {
      const rows = await s.query<{ action: string; quantity: number | string; sku_id: number | string }>(
        "SELECT p.action, p.quantity, p.sku_id FROM reservation_parts p JOIN reservations r ON r.id = p.reservation_id WHERE r.reference = ? AND p.part_key = ?",
        { replacements: [reference, key], type: QueryTypes.SELECT },
      );
      const r = rows[0];
      if (!r) return null;
      if (r.action !== action || Number(r.quantity) !== quantity) {
        throw bizError("RESERVATION_REFERENCE_CONFLICT", `part ${key} of ${reference} was already used for ${r.action} ${r.quantity}`, { reference, key });
      }
      return { reference, key, action, skuId: Number(r.sku_id), quantity, replayed: true };
    };
    const seen = await existing();
    if (seen) return { value: seen, skuIds: [] };
    const effect = LINE_EFFECT[action];
    try {
      return await this.tx(async (t) => {
        const hold = await this.reservation(reference, t);
        if (!hold) throw bizError("RESERVATION_NOT_FOUND", `no reservation ${reference}`, { reference });
        if (hold.status !== "OPEN") throw bizError("RESERVATION_STATE_CONFLICT", `reservation ${reference} is ${hold.status}`, { reference, status: hold.status });
        if (hold.lines.length !== 1) throw bizError("RESERVATION_STATE_CONFLICT", `hold ${reference} has ${hold.lines.length} lines; parts need one`, { reference });
        const skuId = hold.lines[0].skuId;
        const now = new Date();
        // the part row first: a concurrent duplicate waits on the unique key, then rolls back
        await s.query("INSERT INTO reservation_parts (reservation_id, part_key, action, sku_id, quantity, created_at) VALUES (?, ?, ?, ?, ?, ?)", {
          replacements: [hold.id, key, action, skuId, quantity, now],
          transaction: t,
          type: QueryTypes.INSERT,
        });
        const shrunk = await runUpdate(
          s,
          "UPDATE reservation_lines SET quantity = quantity - ? WHERE reservation_id = ? AND sku_id = ? AND quantity >= ?",
          [quantity, hold.id, skuId, quantity],
          t,
        );
        if (shrunk !== 1) throw bizError("HOLD_SHORT", `hold ${reference} has fewer than ${quantity} units left`, { reference, quantity, left: hold.lines[0].quantity });
        const n = await runUpdate(s, effect.sql, effect.params(quantity, now, skuId), t);
        if (n !== 1) throw new Errors.MoleculerServerError(`stock of SKU ${skuId} cannot ${action} ${quantity} units of ${reference}`, 500, "INTERNAL_ERROR", { skuId, reference });
        await this.record(t, [{ skuId, ...effect.movement(quantity), reason: `${action} part ${key}`, reference }]);
        return { value: { reference, key, action, skuId, quantity, replayed: false }, skuIds: [skuId] };
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        const winner = await existing();
        if (winner) return { value: winner, skuIds: [] };
      }
      throw err;
    }
  }

  /**
   * Put the units of a committed part back on hand (a flash-sale order refunded before it
   * shipped), once per committed part: the return is a part of its own (`return:<key>`) under
   * the hold's unique key, so a repeat — or a concurrent duplicate, which waits on that key and
   * rolls back — answers the first return (`replayed`). The hold itself is not touched (the unit
   * left it when it was sold), so this works whether the hold is still OPEN or already released.
   * RESERVATION_NOT_FOUND when the hold or the committed part does not exist.
   */
  async returnPart(reference: string, key: string, reason?: string): Promise<Changed<HoldPart>> {
    const s = this.deps.sequelize;
    const returnKey = `return:${key}`;
    const parts = async (t?: Transaction) => {
      const rows = await s.query<{ id: number | string; part_key: string; action: string; quantity: number | string; sku_id: number | string }>(
        "SELECT r.id, p.part_key, p.action, p.quantity, p.sku_id FROM reservations r LEFT JOIN reservation_parts p ON p.reservation_id = r.id AND p.part_key IN (?, ?) WHERE r.reference = ?",
        { replacements: [key, returnKey, reference], type: QueryTypes.SELECT, transaction: t },
      );
      if (!rows.length) throw bizError("RESERVATION_NOT_FOUND", `no reservation ${reference}`, { reference });
      const sold = rows.find((r) => r.part_key === key);
      if (!sold || sold.action !== "commit") throw bizError("RESERVATION_NOT_FOUND", `no committed part ${key} of ${reference}`, { reference, key });
      const back = rows.find((r) => r.part_key === returnKey);
      return { holdId: Number(rows[0].id), skuId: Number(sold.sku_id), quantity: Number(sold.quantity), returned: !!back };
    };
    const answer = (p: { skuId: number; quantity: number }, replayed: boolean): HoldPart => ({ reference, key: returnKey, action: "return", skuId: p.skuId, quantity: p.quantity, replayed });
    const seen = await parts();
    if (seen.returned) return { value: answer(seen, true), skuIds: [] };
    try {
      return await this.tx(async (t) => {
        const now = new Date();
        // the return part first: the unique key lets exactly one return of this part through
        await s.query("INSERT INTO reservation_parts (reservation_id, part_key, action, sku_id, quantity, created_at) VALUES (?, ?, 'return', ?, ?, ?)", {
          replacements: [seen.holdId, returnKey, seen.skuId, seen.quantity, now],
          transaction: t,
          type: QueryTypes.INSERT,
        });
        const effect = LINE_EFFECT.return;
        const n = await runUpdate(s, effect.sql, effect.params(seen.quantity, now, seen.skuId), t);
        if (n !== 1) throw new Errors.MoleculerServerError(`stock of SKU ${seen.skuId} cannot take ${seen.quantity} units back`, 500, "INTERNAL_ERROR", { skuId: seen.skuId, reference });
        await this.record(t, [{ skuId: seen.skuId, ...effect.movement(seen.quantity), reason: reason ?? `return part ${key}`, reference }]);
        return { value: answer(seen, false), skuIds: [seen.skuId] };
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        const winner = await parts();
        if (winner.returned) return { value: answer(winner, true), skuIds: [] };
      }
      throw err;
    }
  }

  /** on_hand += delta, never below what is reserved. */
  async adjust(skuId: number, delta: number, reason: string, reference: string | null): Promise<Changed<StockLevel>> {
    return this.tx(async (t) => {
      const n = await runUpdate(
        this.deps.sequelize,
        "UPDATE stock SET on_hand = on_hand + ?, updated_at = ? WHERE sku_id = ? AND on_hand + ? >= reserved AND on_hand + ? <= ?",
        [delta, new Date(), skuId, delta, delta, MAX_ON_HAND],
        t,
      );
      if (n === 0) {
        const level = await this.mustLevel(skuId, t);
        if (level.onHand + delta > MAX_ON_HAND) {
          throw validationError([{ field: "delta", message: `on hand would exceed ${MAX_ON_HAND}`, type: "numberMax" }]);
        }
        throw bizError("STOCK_BELOW_RESERVED", `SKU ${skuId} has ${level.onHand} on hand and ${level.reserved} reserved; cannot adjust by ${delta}`, {
          skuId,
          onHand: level.onHand,
          reserved: level.reserved,
          delta,
        });
      }
      if (delta < 0) await this.afterDecrease(t, skuId, -delta);
      await this.record(t, [{ skuId, type: "adjust", onHandDelta: delta, reservedDelta: 0, reason, reference }]);
      return { value: await this.mustLevel(skuId, t), skuIds: [skuId] };
    });
  }

  /** Not a stock change: no movement, no event. */
  async setThreshold(skuId: number, lowStockThreshold: number): Promise<StockLevel> {
    return this.tx(async (t) => {
      await this.m.Stock.update({ lowStockThreshold }, { where: { skuId }, transaction: t });
      return this.mustLevel(skuId, t);
    });
  }
}

function strip(r: Reservation & { id?: number }): Reservation {
  const { id: _id, ...rest } = r;
  return rest;
}
