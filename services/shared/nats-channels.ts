/**
 * The @moleculer/channels NATS JetStream adapter, made safe for nodes that start at the same
 * moment, and with dead letters that say what went wrong.
 *
 * Each node subscribes to a shared durable consumer with its own deliver subject; when two nodes
 * create that consumer concurrently, both see "not found", both add it, and the loser gets
 * "consumer name already in use" — its service then fails to start. Retrying binds the loser to
 * the consumer the winner created (nats.js reuses an existing durable's subject).
 *
 * The stock adapter moves a message that exhausted its retries to the dead-letter stream with
 * only the original channel and group; the consumer's error, the number of deliveries and the
 * event id are lost. `DeadLetterReasonMiddleware` remembers each message's last error, and
 * `moveToDeadLetter` passes all of it on in headers (services/ops records them).
 */
import { Adapters } from "@moleculer/channels";
import { DeadLetterHeaders } from "../ops/ops.contracts";

type Chan = { id: string; name: string; group: string; deadLettering: { queueName: string } };
type JsMsg = { data: Uint8Array; seq: number; info: { redeliveryCount: number } };
type BaseNats = new (opts: unknown) => {
  subscribe(chan: Chan, svc: unknown): Promise<void>;
  publish(channel: string, payload: unknown, opts: Record<string, unknown>): Promise<void>;
  parseMessageHeaders(raw: unknown): Record<string, string> | null;
  metricsIncrement(metric: string, chan: Chan): void;
  activeMessages: Map<string, unknown[]>;
  logger: { warn(...a: unknown[]): void; error(...a: unknown[]): void };
};

const NatsAdapter = (Adapters as unknown as { NATS: BaseNats }).NATS;

/** The last error of each message being handled (the raw JetStream message is the key). */
const lastError = new WeakMap<object, string>();

/** Header values are one line; keep them short as well. */
const headerValue = (s: string) => s.replace(/[\r\n]+/g, " ").slice(0, 1000);

/** Remembers why a channel handler failed, for the dead letter the adapter may write next. */
export const DeadLetterReasonMiddleware = {
  name: "DeadLetterReason",
  localChannel(next: (msg: unknown, raw: unknown) => Promise<unknown>) {
    return async (msg: unknown, raw: unknown) => {
      try {
        return await next(msg, raw);
      } catch (err) {
        if (raw && typeof raw === "object") lastError.set(raw, headerValue((err as Error)?.message ?? String(err)));
        throw err;
      }
    };
  },
};

export class RacingSafeNatsAdapter extends NatsAdapter {
  override async subscribe(chan: Chan, svc: unknown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.subscribe(chan, svc);
      } catch (err) {
        const raced = /consumer name already in use/i.test((err as Error)?.message ?? "");
        if (!raced || attempt >= 8) throw err;
        // the failed attempt registered the channel's in-flight tracking: undo before retrying
        this.activeMessages.delete(chan.id);
        this.logger.warn(`JetStream consumer for '${chan.name}' was being created by another node; retrying (${attempt})`);
        await new Promise((r) => setTimeout(r, 100 * attempt + Math.floor(Math.random() * 100)));
      }
    }
  }

  /** As the stock adapter, plus the error, the delivery count and the event id. */
  async moveToDeadLetter(chan: Chan, message: JsMsg): Promise<void> {
    try {
      const original = this.parseMessageHeaders(message) ?? {};
      const headers: Record<string, string> = {
        [DeadLetterHeaders.ORIGINAL_CHANNEL]: chan.name,
        [DeadLetterHeaders.ORIGINAL_GROUP]: chan.group,
        [DeadLetterHeaders.ATTEMPTS]: String(message.info.redeliveryCount),
      };
      if (original[DeadLetterHeaders.EVENT_ID]) headers[DeadLetterHeaders.EVENT_ID] = original[DeadLetterHeaders.EVENT_ID];
      const error = lastError.get(message);
      if (error) headers[DeadLetterHeaders.ERROR] = error;
      await this.publish(chan.deadLettering.queueName, message.data, { raw: true, headers });
      this.metricsIncrement("moleculer.channels.messages.deadLettering.total", chan);
      this.logger.warn(`Moved message ${message.seq} of '${chan.name}' (group ${chan.group}) to '${chan.deadLettering.queueName}'`);
    } catch (err) {
      // the adapter acks the message next whatever happens here: say loudly that it is gone
      this.logger.error(`Moving message ${message.seq} of '${chan.name}' to the dead-letter queue failed; it is lost: ${(err as Error)?.message ?? err}`);
    }
  }
}
