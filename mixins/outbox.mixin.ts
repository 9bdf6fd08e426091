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
 * Embedded shape (Fake channel adapter, no transporter): the Fake adapter's publish is a
 * fire-and-forget broker event, so a consumer that fails would lose the message after the row was
 * already marked published. There the relay instead calls the local consumers' channel handlers
 * itself and marks a row published only once every consumer group has handled it. The groups of
 * an event run concurrently, as JetStream's durable consumers do, and so do up to LOCAL_IN_FLIGHT
 * events (the events of one order in outbox order). A failing group is retried with backoff (the
 * groups that took the event are not re-run). A group that still fails after its
 * channel's `maxRetries` (at most OUTBOX_MAX_LOCAL_ATTEMPTS) passes is dead-lettered, as
 * JetStream would: the message goes to the local DEAD_LETTER consumer (services/ops) and the
 * other groups carry on. With no such consumer the row stays unpublished (logged as an error).
 *
 * Requires DbMixin (uses this.sequelize / this.tx).
 */
import crypto from "node:crypto";
import { Context, Service, ServiceSchema } from "moleculer";
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import { isUniqueViolation, withTransaction } from "../services/shared/db";
import { DEAD_LETTER_CHANNEL, DeadLetterHeaders } from "../services/ops/ops.contracts";

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
  attempts?: number;
}

/** Delay between a commit that wrote outbox rows and the relay pass that publishes them. */
const KICK_DELAY_MS = 5;

/** In-process delivery (embedded shape): attempts before a row is left as a local dead letter. */
export const OUTBOX_MAX_LOCAL_ATTEMPTS = 10;

/** The bits of @moleculer/channels' adapter the relay looks at (NATS has createStream). */
interface ChannelAdapter {
  connected?: boolean;
  addPrefixTopic?(name: string): string;
  createStream?(name: string, subjects: string[], opts: Record<string, unknown>): Promise<unknown>;
}

type OutboxService = Service & {
  sequelize: Sequelize;
  $outboxStreams?: Set<string>;
  $outboxTimer?: NodeJS.Timeout;
  $outboxRunning?: Promise<void> | null;
  $outboxStopped?: boolean;
  $outboxKick?: boolean;
  $outboxKickTimer?: NodeJS.Timeout;
  $outboxReadyAt?: number;
  /** in-process delivery: row id → earliest next attempt; event id → groups that handled it */
  $outboxRetryAt?: Map<number, number>;
  $outboxDone?: Map<string, Set<string>>;
  relayOutbox(): Promise<number>;
  republish(t: Transaction, channel: string, payload: unknown, rowId: string): Promise<void>;
};

/**
 * The channel adapter connects after every service has started, and subscribes consumers right
 * after connecting. Publishing before that fails (NATS) or reaches nobody (the in-process adapter
 * drops it), so the relay waits for the connection plus one interval for the subscriptions.
 */
function channelsReady(svc: OutboxService, graceMs: number): boolean {
  if (!channelsOf(svc).adapter?.connected) {
    svc.$outboxReadyAt = undefined;
    return false;
  }
  svc.$outboxReadyAt ??= Date.now() + graceMs;
  return Date.now() >= svc.$outboxReadyAt;
}

/** The channels middleware puts sendToChannel and the adapter on the broker, not on services. */
function channelsOf(svc: OutboxService) {
  const broker = svc.broker as unknown as {
    channelAdapter?: ChannelAdapter;
    sendToChannel?(channel: string, payload: unknown, opts?: Record<string, unknown>): Promise<void>;
  };
  return { adapter: broker.channelAdapter, send: broker.sendToChannel?.bind(broker) };
}

export function newEventId(): string {
  return crypto.randomUUID();
}

/** Longest pause between two polls of an idle outbox (commits kick the relay at once). */
export const IDLE_POLL_MAX_MS = 2000;

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
        await this.republish(t, channel, env, env.eventId);
        return env;
      },

      /**
       * Write many events of one channel in the caller's transaction, as one multi-row INSERT
       * (a batch of orders written together). Returns their envelopes, in order.
       */
      async outboxMany(this: OutboxService, t: Transaction, channel: string, data: unknown[]): Promise<EventEnvelope[]> {
        if (!data.length) return [];
        const at = new Date();
        const envs: EventEnvelope[] = data.map((d) => ({ eventId: newEventId(), type: channel, occurredAt: at.toISOString(), producer: opts.producer, data: d }));
        await this.sequelize.query("INSERT INTO outbox (event_id, producer, channel, payload, attempts, created_at) VALUES " + envs.map(() => "(?, ?, ?, ?, 0, ?)").join(", "), {
          replacements: envs.flatMap((e) => [e.eventId, opts.producer, channel, JSON.stringify(e), at]),
          transaction: t,
          type: QueryTypes.INSERT,
        });
        t.afterCommit(() => {
          this.$outboxKick = true;
          this.$outboxKickTimer ??= setTimeout(() => {
            this.$outboxKickTimer = undefined;
            void this.relayOutbox().catch(() => undefined);
          }, KICK_DELAY_MS);
        });
        return envs;
      },

      /**
       * Publish an existing message again (a dead-letter replay) through this outbox, in the
       * caller's transaction. `rowId` names this publication: the payload keeps its own event id,
       * so idempotent consumers still recognise it, while the broker does not drop it as a
       * duplicate of the first publication.
       */
      async republish(this: OutboxService, t: Transaction, channel: string, payload: unknown, rowId: string): Promise<void> {
        await this.sequelize.query(
          "INSERT INTO outbox (event_id, producer, channel, payload, attempts, created_at) VALUES (?, ?, ?, ?, 0, ?)",
          { replacements: [rowId, opts.producer, channel, JSON.stringify(payload), new Date()], transaction: t, type: QueryTypes.INSERT },
        );
        // publish soon after commit rather than on the next tick of the timer
        // (after a few ms, so that rows committed meanwhile share one relay pass: one
        // SELECT … FOR UPDATE and one UPDATE for the batch instead of per row)
        t.afterCommit(() => {
          this.$outboxKick = true;
          this.$outboxKickTimer ??= setTimeout(() => {
            this.$outboxKickTimer = undefined;
            void this.relayOutbox().catch(() => undefined);
          }, KICK_DELAY_MS);
        });
      },

      /** Publish pending rows once. Returns how many were published. */
      async relayOutbox(this: OutboxService): Promise<number> {
        if (this.$outboxStopped) return 0;
        if (!channelsReady(this, interval)) return 0;
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

      /** Has `consumer` already recorded `eventId` (a cheap pre-check before a remote effect)? */
      async hasProcessed(this: OutboxService, consumer: string, eventId: string): Promise<boolean> {
        const rows = await this.sequelize.query("SELECT 1 AS x FROM processed_events WHERE consumer = ? AND event_id = ?", {
          replacements: [consumer, eventId],
          type: QueryTypes.SELECT,
        });
        return rows.length > 0;
      },

      /**
       * Run `fn` at most once per (consumer, eventId): the marker row and the effect share one
       * transaction. Returns false when the event had already been processed.
       * `fn` must do its work through `t` only: calling another service from inside it holds the
       * marker's lock across the call, and on SQLite (one writer) deadlocks if that service
       * writes to the same database. For an effect that is a call to an idempotent action, call
       * it first and record the marker afterwards (`hasProcessed` → call → `once(…, noop)`).
       */
      async once<T>(
        this: OutboxService,
        consumer: string,
        eventId: string,
        fn: (t: Transaction) => Promise<T>,
      ): Promise<{ applied: boolean; result?: T }> {
        let duplicate = false;
        try {
          return await withTransaction(this.sequelize, async (t) => {
            try {
              await this.sequelize.query("INSERT INTO processed_events (consumer, event_id, created_at) VALUES (?, ?, ?)", {
                replacements: [consumer, eventId, new Date()],
                transaction: t,
                type: QueryTypes.INSERT,
              });
            } catch (err) {
              duplicate = isUniqueViolation(err);
              throw err;
            }
            const result = await fn(t);
            return { applied: true, result };
          });
        } catch (err) {
          // only the marker's own unique key means "seen before"; a unique violation inside the
          // effect is the handler's failure and must surface (and be retried / dead-lettered)
          if (duplicate) return { applied: false };
          throw err;
        }
      },
    },
    started(this: OutboxService) {
      this.$outboxStopped = false;
      // The timer is the safety net (rows whose publish failed, rows of a node that died): every
      // commit already kicks a relay pass. An idle outbox is polled less and less often, up to
      // IDLE_POLL_MAX_MS, instead of one SELECT per producer every `interval`.
      let delay = interval;
      const tick = () => {
        if (this.$outboxStopped) return;
        this.relayOutbox()
          .then((n) => (delay = n > 0 ? interval : Math.min(delay * 2, Math.max(interval, IDLE_POLL_MAX_MS))))
          .catch((err) => {
            delay = interval;
            this.logger.warn("outbox relay failed; will retry", err?.message ?? err);
          })
          .finally(() => {
            if (!this.$outboxStopped) this.$outboxTimer = setTimeout(tick, delay);
          });
      };
      this.$outboxTimer = setTimeout(tick, interval);
    },
    async stopped(this: OutboxService) {
      // stop relaying before the channel adapter stops: a publish during shutdown is lost silently
      this.$outboxStopped = true;
      if (this.$outboxTimer) clearTimeout(this.$outboxTimer);
      if (this.$outboxKickTimer) clearTimeout(this.$outboxKickTimer);
      this.$outboxKickTimer = undefined;
      if (this.$outboxRunning) await this.$outboxRunning.catch(() => undefined);
    },
  } as unknown as ServiceSchema;
}

async function relayBatch(svc: OutboxService, producer: string, batch: number): Promise<number> {
  const sequelize = svc.sequelize;
  const mysql = sequelize.getDialect() !== "sqlite";
  const { adapter, send } = channelsOf(svc);
  if (!send) throw new Error("outbox: the Channels middleware is not installed on this broker");
  if (deliversInProcess(svc, adapter)) return relayInProcess(svc, producer, batch);
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
        await ensureStream(svc, adapter, row.channel);
        await send(row.channel, JSON.parse(row.payload), { msgID: row.event_id, headers: { "x-event-id": row.event_id } });
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

/**
 * JetStream only keeps a message when a stream covers its subject, and the channels adapter
 * creates streams when a consumer subscribes. A producer whose consumers have not started yet
 * (or are down) would get "no responders" forever, so the relay creates the stream itself, with
 * the same name and subject the adapter would use; messages then wait for the durable consumer.
 */
async function ensureStream(svc: OutboxService, adapter: ChannelAdapter | undefined, channel: string): Promise<void> {
  if (!adapter?.createStream || !adapter.addPrefixTopic) return;
  svc.$outboxStreams ??= new Set();
  if (svc.$outboxStreams.has(channel)) return;
  const subject = adapter.addPrefixTopic(channel);
  await adapter.createStream(subject.split(".").join("_"), [subject], {});
  svc.$outboxStreams.add(channel);
}

/** The Fake adapter on a node without transporter: every consumer is a service of this broker. */
function deliversInProcess(svc: OutboxService, adapter: ChannelAdapter | undefined): boolean {
  return adapter?.constructor?.name === "FakeAdapter" && !(svc.broker as unknown as { transit?: unknown }).transit;
}

/** Events the in-process relay delivers at once (a JetStream consumer's maxInFlight is 10–20). */
export const LOCAL_IN_FLIGHT = 10;

/** Events of one order are delivered in order; the order number is the key (null: no order named). */
function orderingKey(env: EventEnvelope): string | null {
  const orderNo = (env?.data as { orderNo?: unknown } | undefined)?.orderNo;
  return typeof orderNo === "string" && orderNo ? orderNo : null;
}

/** min(250 ms × 2^(attempts−1), 30 s) */
const localBackoffMs = (attempts: number) => Math.min(250 * 2 ** Math.max(0, attempts - 1), 30_000);

interface ChannelDef {
  /** the full (namespace-prefixed) channel, when the definition's key is only a label */
  name?: string;
  group?: string;
  context?: boolean;
  maxRetries?: number;
  handler(payload: unknown, raw: unknown): unknown;
}

interface LocalConsumer {
  service: Service;
  chan: ChannelDef;
  group: string;
}

/**
 * The services of this broker that consume `channel`, with their group: definitions keyed by the
 * channel, and those keyed by a label that name the channel (several groups of one service).
 */
export function localConsumers(broker: Service["broker"], channel: string): LocalConsumer[] {
  const adapter = (broker as unknown as { channelAdapter?: ChannelAdapter }).channelAdapter;
  const subject = adapter?.addPrefixTopic ? adapter.addPrefixTopic(channel) : channel;
  const out: LocalConsumer[] = [];
  for (const service of broker.services) {
    const defs = (service.schema as { channels?: Record<string, ChannelDef | ChannelDef["handler"]> }).channels ?? {};
    for (const [key, def] of Object.entries(defs)) {
      const chan: ChannelDef = typeof def === "function" ? { handler: def } : def;
      if (chan.name ? chan.name !== subject : key !== channel) continue;
      out.push({ service, chan, group: chan.group ?? service.fullName });
    }
  }
  return out;
}

export function deliverTo(c: LocalConsumer, broker: Service["broker"], payload: unknown, raw: unknown): Promise<unknown> {
  const arg = c.chan.context ? Context.create(broker, null as never, payload as never, {}) : payload;
  return Promise.resolve(c.chan.handler.call(c.service, arg, raw));
}

/**
 * Hand a message a group gave up on to the local dead-letter consumer, with the headers the
 * JetStream adapter would set. False when nobody here takes dead letters.
 */
async function deadLetterLocally(svc: OutboxService, row: OutboxRow, envelope: EventEnvelope, group: string, err: unknown, attempts: number): Promise<boolean> {
  const targets = localConsumers(svc.broker, DEAD_LETTER_CHANNEL);
  if (!targets.length) return false;
  const adapter = channelsOf(svc).adapter;
  const headers = {
    [DeadLetterHeaders.ORIGINAL_CHANNEL]: adapter?.addPrefixTopic ? adapter.addPrefixTopic(row.channel) : row.channel,
    [DeadLetterHeaders.ORIGINAL_GROUP]: group,
    [DeadLetterHeaders.EVENT_ID]: row.event_id,
    [DeadLetterHeaders.ERROR]: (err as Error)?.message ?? String(err),
    [DeadLetterHeaders.ATTEMPTS]: String(attempts),
  };
  for (const target of targets) await deliverTo(target, svc.broker, envelope, { headers });
  return true;
}

/**
 * Embedded shape: deliver pending rows by calling the local consumers' handlers and mark a row
 * published only after all of them succeeded (or were dead-lettered). No transaction is held
 * while handlers run (on SQLite that would block the handlers' own transactions behind ours).
 */
async function relayInProcess(svc: OutboxService, producer: string, batch: number): Promise<number> {
  const sequelize = svc.sequelize;
  const retryAt = (svc.$outboxRetryAt ??= new Map());
  const done = (svc.$outboxDone ??= new Map());
  const now = Date.now();
  const waiting = [...retryAt].filter(([, at]) => at > now).map(([id]) => id).slice(0, 500);
  const rows = await sequelize.query<OutboxRow>(
    `SELECT id, event_id, channel, payload, attempts FROM outbox WHERE producer = ? AND published_at IS NULL AND attempts < ?` +
      (waiting.length ? ` AND id NOT IN (${waiting.map(() => "?").join(",")})` : "") +
      ` ORDER BY id LIMIT ${batch}`,
    { replacements: [producer, OUTBOX_MAX_LOCAL_ATTEMPTS, ...waiting], type: QueryTypes.SELECT },
  );
  let delivered = 0;
  // rows whose every consumer has taken them: marked together at the end of the pass, one write
  // instead of one per event (a crash before the mark only delivers them again, and consumers
  // are idempotent)
  const published: number[] = [];
  try {
    await deliverRows();
  } finally {
    if (published.length) {
      await withTransaction(sequelize, (t) =>
        sequelize.query(`UPDATE outbox SET published_at = ?, attempts = attempts + 1 WHERE id IN (${published.map(() => "?").join(",")})`, {
          replacements: [new Date(), ...published],
          transaction: t,
        }),
      );
    }
  }
  return delivered;

  /**
   * Up to LOCAL_IN_FLIGHT events at once, as a JetStream consumer's maxInFlight allows in the
   * cluster; the events of one order still go one after another, in outbox order (stricter than
   * JetStream, which orders nothing across channels). An event that names no order waits for
   * everything before it and holds back everything after it.
   */
  async function deliverRows() {
    const inFlight = new Set<Promise<void>>();
    const tails = new Map<string, Promise<void>>();
    for (const row of rows) {
      if (svc.$outboxStopped) break;
      const envelope = JSON.parse(row.payload) as EventEnvelope;
      const key = orderingKey(envelope);
      if (key === null) {
        await Promise.all(inFlight);
        await deliverRow(row, envelope);
        continue;
      }
      while (inFlight.size >= LOCAL_IN_FLIGHT) await Promise.race(inFlight);
      const p: Promise<void> = (tails.get(key) ?? Promise.resolve())
        .then(() => deliverRow(row, envelope))
        // deliverRow keeps a consumer's failure for a retry; this is the bookkeeping itself failing
        .catch((err) => svc.logger.error(`outbox: delivering ${row.channel} ${row.event_id} failed: ${(err as Error)?.message ?? err}`));
      tails.set(key, p);
      inFlight.add(p);
      void p.finally(() => {
        inFlight.delete(p);
        if (tails.get(key) === p) tails.delete(key);
      });
    }
    await Promise.all(inFlight);
  }

  /** One event to every consumer group that has not taken it yet; failures are kept for a retry, never thrown. */
  async function deliverRow(row: OutboxRow, envelope: EventEnvelope): Promise<void> {
    const handled = done.get(row.event_id) ?? new Set<string>();
    done.set(row.event_id, handled);
    const attempts = (row.attempts ?? 0) + 1;
    try {
      // the groups of one event run side by side, as JetStream's durable consumers (one per
      // group) do in the cluster: each waits on its own writes, not on the other groups'
      const outcomes = await Promise.allSettled(
        localConsumers(svc.broker, row.channel)
          .filter((consumer) => !handled.has(consumer.group))
          .map(async (consumer) => {
            const raw = { headers: { "x-event-id": row.event_id }, info: { redeliveryCount: row.attempts ?? 0 } };
            try {
              await deliverTo(consumer, svc.broker, envelope, raw);
            } catch (err) {
              const limit = Math.min(consumer.chan.maxRetries ?? OUTBOX_MAX_LOCAL_ATTEMPTS, OUTBOX_MAX_LOCAL_ATTEMPTS);
              if (attempts < limit || !(await deadLetterLocally(svc, row, envelope, consumer.group, err, attempts))) throw err;
              svc.logger.error(`outbox: group ${consumer.group} failed ${row.channel} ${row.event_id} ${attempts} times; dead-lettered: ${(err as Error)?.message ?? err}`);
            }
            handled.add(consumer.group);
          }),
      );
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
      // the groups that took it are remembered (`handled`): a retry runs only the others
      if (failed) throw failed.reason;
      published.push(row.id);
      done.delete(row.event_id);
      retryAt.delete(row.id);
      delivered++;
    } catch (err) {
      await withTransaction(sequelize, (t) => sequelize.query("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", { replacements: [row.id], transaction: t }));
      const why = (err as Error)?.message ?? String(err);
      if (attempts >= OUTBOX_MAX_LOCAL_ATTEMPTS) {
        retryAt.delete(row.id);
        done.delete(row.event_id);
        svc.logger.error(`outbox: ${row.channel} ${row.event_id} failed ${attempts} times in-process; left unpublished (outbox id ${row.id}): ${why}`);
      } else {
        retryAt.set(row.id, Date.now() + localBackoffMs(attempts));
        svc.logger.warn(`outbox: a consumer of ${row.channel} ${row.event_id} failed (attempt ${attempts}), will retry: ${why}`);
      }
    }
  }
}
