/**
 * Transactional outbox + idempotent consumers (DESIGN.md "Events").
 *
 * Producers call `this.outbox(t, channel, payload)` inside the same transaction that changes
 * their state; a relay loop on every node publishes pending rows to the channel with the event
 * id as JetStream `msgID` (broker-side de-duplication) and marks them published. If the broker
 * is down the row simply waits. Several nodes may relay at once: on MySQL rows are claimed with
 * `FOR UPDATE SKIP LOCKED`; duplicates that still slip through are absorbed by consumers.
 *
 * Consumers wrap their handler in `this.once(consumer, eventId, t => ...)`: the event id is
 * recorded in `processed_events` in the same transaction as the effect, so a redelivered event
 * changes nothing.
 *
 * Requires DbMixin (uses this.sequelize / this.tx).
 */
import crypto from "node:crypto";
import type { Service, ServiceSchema } from "moleculer";
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import { isUniqueViolation, withTransaction } from "../services/shared/db";

export interface EventEnvelope<T = unknown> {
  eventId: string;
  type: string;
  occurredAt: string;
  producer: string;
  data: T;
}

interface OutboxRow {
  id: number;
  event_id: string;
  channel: string;
  payload: string;
}

type OutboxService = Service & {
  sequelize: Sequelize;
  $outboxTimer?: NodeJS.Timeout;
  $outboxRunning?: Promise<void> | null;
  $outboxStopped?: boolean;
  $outboxKick?: boolean;
  relayOutbox(): Promise<number>;
  sendToChannel(channel: string, payload: unknown, opts?: Record<string, unknown>): Promise<void>;
};

export function newEventId(): string {
  return crypto.randomUUID();
}

export function OutboxMixin(opts: { producer: string; intervalMs?: number; batch?: number }): ServiceSchema {
  const interval = opts.intervalMs ?? 250;
  const batch = opts.batch ?? 100;
  return {
    name: opts.producer,
    methods: {
      /** Write an event in the caller's transaction. Returns the envelope that will be published. */
      async outbox(this: OutboxService, t: Transaction, channel: string, data: unknown): Promise<EventEnvelope> {
        const env: EventEnvelope = {
          eventId: newEventId(),
          type: channel,
          occurredAt: new Date().toISOString(),
          producer: opts.producer,
          data,
        };
        await this.sequelize.query(
          "INSERT INTO outbox (event_id, producer, channel, payload, attempts, created_at) VALUES (?, ?, ?, ?, 0, ?)",
          { replacements: [env.eventId, opts.producer, channel, JSON.stringify(env), new Date()], transaction: t, type: QueryTypes.INSERT },
        );
        // publish soon after commit rather than on the next tick of the timer
        t.afterCommit(() => {
          this.$outboxKick = true;
          setImmediate(() => void this.relayOutbox().catch(() => undefined));
        });
        return env;
      },

      /** Publish pending rows once. Returns how many were published. */
      async relayOutbox(this: OutboxService): Promise<number> {
        if (this.$outboxStopped) return 0;
        if (this.$outboxRunning) {
          this.$outboxKick = true;
          return 0;
        }
        let published = 0;
        const run = async () => {
          do {
            this.$outboxKick = false;
            const n = await relayBatch(this, opts.producer, batch);
            published += n;
            if (n < batch && !this.$outboxKick) break;
          } while (!this.$outboxStopped);
        };
        this.$outboxRunning = run().finally(() => (this.$outboxRunning = null));
        await this.$outboxRunning;
        return published;
      },

      /**
       * Run `fn` at most once per (consumer, eventId): the marker row and the effect share one
       * transaction. Returns false when the event had already been processed.
       */
      async once<T>(
        this: OutboxService,
        consumer: string,
        eventId: string,
        fn: (t: Transaction) => Promise<T>,
      ): Promise<{ applied: boolean; result?: T }> {
        try {
          return await withTransaction(this.sequelize, async (t) => {
            await this.sequelize.query("INSERT INTO processed_events (consumer, event_id, created_at) VALUES (?, ?, ?)", {
              replacements: [consumer, eventId, new Date()],
              transaction: t,
              type: QueryTypes.INSERT,
            });
            const result = await fn(t);
            return { applied: true, result };
          });
        } catch (err) {
          if (isUniqueViolation(err)) return { applied: false };
          throw err;
        }
      },
    },
    started(this: OutboxService) {
      this.$outboxStopped = false;
      const tick = () => {
        if (this.$outboxStopped) return;
        this.relayOutbox()
          .catch((err) => this.logger.warn("outbox relay failed; will retry", err?.message ?? err))
          .finally(() => {
            if (!this.$outboxStopped) this.$outboxTimer = setTimeout(tick, interval);
          });
      };
      this.$outboxTimer = setTimeout(tick, interval);
    },
    async stopped(this: OutboxService) {
      // stop relaying before the channel adapter stops: a publish during shutdown is lost silently
      this.$outboxStopped = true;
      if (this.$outboxTimer) clearTimeout(this.$outboxTimer);
      if (this.$outboxRunning) await this.$outboxRunning.catch(() => undefined);
    },
  } as unknown as ServiceSchema;
}

async function relayBatch(svc: OutboxService, producer: string, batch: number): Promise<number> {
  const sequelize = svc.sequelize;
  const mysql = sequelize.getDialect() !== "sqlite";
  return withTransaction(sequelize, async (t) => {
    const rows = await sequelize.query<OutboxRow>(
      `SELECT id, event_id, channel, payload FROM outbox WHERE producer = ? AND published_at IS NULL ORDER BY id LIMIT ${batch}` +
        (mysql ? " FOR UPDATE SKIP LOCKED" : ""),
      { replacements: [producer], transaction: t, type: QueryTypes.SELECT },
    );
    if (rows.length === 0) return 0;
    const done: number[] = [];
    for (const row of rows) {
      if (svc.$outboxStopped) break;
      try {
        await svc.sendToChannel(row.channel, JSON.parse(row.payload), { msgID: row.event_id, headers: { "x-event-id": row.event_id } });
        done.push(row.id);
      } catch (err) {
        await sequelize.query("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", { replacements: [row.id], transaction: t });
        svc.logger.warn(`outbox: publishing ${row.channel} ${row.event_id} failed, will retry`, (err as Error)?.message);
        break; // keep order per producer: retry from this row on the next pass
      }
    }
    if (done.length) {
      await sequelize.query(`UPDATE outbox SET published_at = ?, attempts = attempts + 1 WHERE id IN (${done.map(() => "?").join(",")})`, {
        replacements: [new Date(), ...done],
        transaction: t,
      });
    }
    return done.length;
  });
}
