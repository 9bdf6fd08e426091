/**
 * Persistence of dead letters: one row per (consumer group, event). A message that dies again
 * after a replay reopens its row (NEW) instead of adding one; the same dead letter delivered
 * twice changes nothing but its last-failure details. A replay is a compare-and-set NEW →
 * REPLAYED that writes the original message to the ops outbox in the same transaction, so each
 * replay publishes exactly once and a second request finds nothing left to do.
 */
import crypto from "node:crypto";
import { Sequelize, Transaction, WhereOptions } from "sequelize";
import type { DeadLetterAttrs, OpsModels } from "../../models/ops";
import type { Row } from "../../models/helpers";
import { isUniqueViolation, runUpdate, withRetriedTransaction, withTransaction } from "../shared/db";
import type { DeadLetterDto, DeadLetterStatus, ListDeadLettersParams } from "./ops.contracts";

export interface IncomingDeadLetter {
  channel: string;
  group: string;
  /** the event id, or a digest of the payload when the message carries none */
  eventId: string;
  payload: unknown;
  error: string | null;
  attempts: number;
}

export interface StoreDeps {
  sequelize: Sequelize;
  models: OpsModels;
  /** OutboxMixin's `republish` bound to the service */
  republish(t: Transaction, channel: string, payload: unknown, rowId: string): Promise<void>;
}

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function payloadDigest(payload: unknown): string {
  return `sha1:${crypto.createHash("sha1").update(JSON.stringify(payload) ?? "").digest("hex")}`;
}

export function toDto(r: DeadLetterAttrs): DeadLetterDto {
  let payload: unknown = r.payload;
  try {
    payload = JSON.parse(r.payload);
  } catch {
    /* stored as received */
  }
  return {
    id: Number(r.id),
    channel: r.channel,
    group: r.groupName,
    eventId: r.eventId,
    payload,
    error: r.error,
    attempts: Number(r.attempts),
    status: r.status as DeadLetterStatus,
    firstFailedAt: iso(r.firstFailedAt)!,
    lastFailedAt: iso(r.lastFailedAt)!,
    replayedAt: iso(r.replayedAt),
    replays: Number(r.replays),
  };
}

export class DeadLetterStore {
  constructor(private deps: StoreDeps) {}

  private get s() {
    return this.deps.sequelize;
  }

  /** Store a dead letter. True when it is a new one (or one that died again after a replay). */
  async record(d: IncomingDeadLetter): Promise<boolean> {
    const now = new Date();
    const payload = JSON.stringify(d.payload ?? null);
    try {
      await withTransaction(this.s, (t) =>
        this.s.query(
          "INSERT INTO dead_letters (channel, group_name, event_id, payload, error, attempts, status, replays, first_failed_at, last_failed_at)" +
            " VALUES (?, ?, ?, ?, ?, ?, 'NEW', 0, ?, ?)",
          { replacements: [d.channel, d.group, d.eventId, payload, d.error, d.attempts, now, now], transaction: t },
        ),
      );
      return true;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    return withRetriedTransaction(this.s, async (t) => {
      const reopened = await runUpdate(
        this.s,
        "UPDATE dead_letters SET status = 'NEW', error = ?, attempts = ?, last_failed_at = ? WHERE group_name = ? AND event_id = ? AND status = 'REPLAYED'",
        [d.error, d.attempts, now, d.group, d.eventId],
        t,
      );
      if (reopened === 0) {
        await runUpdate(this.s, "UPDATE dead_letters SET error = ?, last_failed_at = ? WHERE group_name = ? AND event_id = ?", [d.error, now, d.group, d.eventId], t);
      }
      return reopened === 1;
    });
  }

  async list(p: ListDeadLettersParams): Promise<{ items: DeadLetterDto[]; total: number }> {
    const where: WhereOptions<DeadLetterAttrs> = {};
    if (p.channel) where.channel = p.channel;
    if (p.status) where.status = p.status;
    const { rows, count } = await this.deps.models.DeadLetter.findAndCountAll({
      where,
      order: [["id", "DESC"]],
      limit: p.pageSize,
      offset: (p.page - 1) * p.pageSize,
      raw: true,
    });
    return { items: rows.map(toDto), total: count };
  }

  async find(id: number, t?: Transaction): Promise<Row<DeadLetterAttrs> | null> {
    return this.deps.models.DeadLetter.findByPk(id, { raw: true, transaction: t }) as Promise<Row<DeadLetterAttrs> | null>;
  }

  /** NEW → REPLAYED, queuing the original message on its channel. Null when there is no such dead letter. */
  async replay(id: number): Promise<DeadLetterDto | null> {
    await withRetriedTransaction(this.s, async (t) => {
      const won = await runUpdate(this.s, "UPDATE dead_letters SET status = 'REPLAYED', replays = replays + 1, replayed_at = ? WHERE id = ? AND status = 'NEW'", [new Date(), id], t);
      if (won === 0) return;
      const row = (await this.find(id, t))!;
      await this.deps.republish(t, row.channel, JSON.parse(row.payload), `replay-${id}-${row.replays}`);
    });
    const row = await this.find(id);
    return row ? toDto(row) : null;
  }
}
