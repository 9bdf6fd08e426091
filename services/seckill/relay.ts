/**
 * The relay: moves accepted tickets from each sale's stream (the store) to the durable channel
 * `seckill.accepted`, and acknowledges a stream entry only after its publish was confirmed.
 * JetStream de-duplicates by msgID = ticket, so an entry published twice (a relay that died
 * between publish and ack, another relay that claimed it) reaches the writer once. Entries left
 * pending longer than `claimIdleMs` by a relay that died are claimed by a live one (XAUTOCLAIM).
 *
 * Embedded shape (no transporter): the in-process channel adapter is fire-and-forget, so the
 * relay hands each entry to the local writer itself and acknowledges it once written; a failure
 * leaves the entry pending and it is claimed again after a pause, up to `maxAttempts`, the last
 * of which fails the ticket and dead-letters the message (as JetStream would).
 */
import type { ServiceBroker } from "moleculer";
import type { AddressSnapshot } from "../orders/orders.contracts";
import { DEAD_LETTER_CHANNEL, DeadLetterHeaders } from "../ops/ops.contracts";
import { deliverTo, localConsumers } from "../../mixins/outbox.mixin";
import { AcceptedTicket, SeckillEvents } from "./seckill.contracts";
import type { SeckillStore, StreamEntry } from "./store";
import type { OrderWriter } from "./writer";

interface Adapter {
  connected?: boolean;
  stopping?: boolean;
  addPrefixTopic?(name: string): string;
  createStream?(name: string, subjects: string[], opts: Record<string, unknown>): Promise<unknown>;
}

export interface RelayHost {
  broker: ServiceBroker;
  store: SeckillStore;
  writer: OrderWriter;
  /** ids of the sales whose streams are read */
  liveSales(): number[];
  consumer: string;
  inProcess: boolean;
  claimIdleMs: number;
  maxAttempts: number;
  logger: { warn(m: string): void; error(m: string): void };
}

const BATCH = 256;
const IDLE_POLL_MS = 50;

export class Relay {
  private stopped = false;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastClaim = 0;
  private streamReady = false;
  private attempts = new Map<string, number>();
  private kicked = false;

  constructor(private h: RelayHost) {}

  start() {
    this.stopped = false;
    this.schedule(IDLE_POLL_MS);
  }

  /** a local admission: run soon rather than on the next poll */
  kick() {
    if (this.stopped) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass()
        .catch((err) => this.h.logger.warn(`seckill relay pass failed; the next one retries: ${(err as Error)?.message ?? err}`))
        .then((moved) => {
          this.running = null;
          const again = this.kicked || (typeof moved === "number" && moved > 0);
          this.kicked = false;
          this.schedule(again ? 0 : IDLE_POLL_MS);
        });
    }, ms);
  }

  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }

  /** One pass over every live sale. Returns how many entries moved. */
  async pass(): Promise<number> {
    let moved = 0;
    const claimNow = Date.now() - this.lastClaim >= Math.min(this.h.claimIdleMs, 1000);
    if (claimNow) this.lastClaim = Date.now();
    for (const eventId of this.h.liveSales()) {
      if (this.stopped) break;
      const entries = await this.h.store.read(eventId, this.h.consumer, BATCH);
      if (claimNow) entries.push(...(await this.h.store.claim(eventId, this.h.consumer, this.h.claimIdleMs, BATCH)));
      if (!entries.length) continue;
      const done = this.h.inProcess ? await this.deliverLocally(eventId, entries) : await this.publish(eventId, entries);
      await this.h.store.ack(eventId, done);
      moved += done.length;
    }
    return moved;
  }

  private message(eventId: number, e: StreamEntry): AcceptedTicket {
    return { eventId, ticket: e.ticket, userId: e.userId, quantity: e.quantity, address: JSON.parse(e.address) as AddressSnapshot, acceptedAt: e.acceptedAt };
  }

  private adapter(): Adapter | undefined {
    return (this.h.broker as unknown as { channelAdapter?: Adapter }).channelAdapter;
  }

  /** JetStream: publish all, ack those whose publish was confirmed. */
  private async publish(eventId: number, entries: StreamEntry[]): Promise<string[]> {
    const adapter = this.adapter();
    if (!adapter?.connected || adapter.stopping) return [];
    if (!this.streamReady && adapter.createStream && adapter.addPrefixTopic) {
      // the writer's consumer creates the stream when it subscribes; the relay must not depend
      // on a writer being up (a publish with no stream is lost)
      const subject = adapter.addPrefixTopic(SeckillEvents.ACCEPTED);
      await adapter.createStream(subject.split(".").join("_"), [subject], {});
      this.streamReady = true;
    }
    const send = (this.h.broker as unknown as { sendToChannel(c: string, p: unknown, o: Record<string, unknown>): Promise<void> }).sendToChannel.bind(this.h.broker);
    const results = await Promise.allSettled(
      entries.map((e) => send(SeckillEvents.ACCEPTED, this.message(eventId, e), { msgID: e.ticket, headers: { [DeadLetterHeaders.EVENT_ID]: e.ticket } })),
    );
    // a publish while the adapter stops returns without publishing: ack nothing then
    if (adapter.stopping) return [];
    const done: string[] = [];
    results.forEach((r, i) => {
      if (r.status === "fulfilled") done.push(entries[i].id);
      else this.h.logger.warn(`seckill relay: publishing ticket ${entries[i].ticket} failed, it stays pending: ${(r.reason as Error)?.message ?? r.reason}`);
    });
    return done;
  }

  /** Embedded: write each entry here; ack what was written (or finally failed). */
  private async deliverLocally(eventId: number, entries: StreamEntry[]): Promise<string[]> {
    const done: string[] = [];
    await Promise.all(
      entries.map(async (e) => {
        const attempt = (this.attempts.get(e.ticket) ?? 0) + 1;
        this.attempts.set(e.ticket, attempt);
        const msg = this.message(eventId, e);
        const final = attempt >= this.h.maxAttempts;
        try {
          await this.h.writer.write(msg, final);
          done.push(e.id);
          this.attempts.delete(e.ticket);
        } catch (err) {
          if (!final) {
            this.h.logger.warn(`seckill writer: ticket ${e.ticket} failed (attempt ${attempt}), retried later: ${(err as Error)?.message ?? err}`);
            return;
          }
          await this.deadLetter(msg, err, attempt);
          done.push(e.id);
          this.attempts.delete(e.ticket);
        }
      }),
    );
    return done;
  }

  private async deadLetter(msg: AcceptedTicket, err: unknown, attempts: number) {
    const adapter = this.adapter();
    const headers = {
      [DeadLetterHeaders.ORIGINAL_CHANNEL]: adapter?.addPrefixTopic ? adapter.addPrefixTopic(SeckillEvents.ACCEPTED) : SeckillEvents.ACCEPTED,
      [DeadLetterHeaders.ORIGINAL_GROUP]: "seckill-writer",
      [DeadLetterHeaders.EVENT_ID]: msg.ticket,
      [DeadLetterHeaders.ERROR]: (err as Error)?.message ?? String(err),
      [DeadLetterHeaders.ATTEMPTS]: String(attempts),
    };
    const targets = localConsumers(this.h.broker as never, DEAD_LETTER_CHANNEL);
    for (const t of targets) await deliverTo(t, this.h.broker as never, msg, { headers }).catch((e) => this.h.logger.error(`seckill: dead-lettering ${msg.ticket} failed: ${(e as Error)?.message}`));
    this.h.logger.error(`seckill writer: ticket ${msg.ticket} failed ${attempts} times; dead-lettered`);
  }
}
