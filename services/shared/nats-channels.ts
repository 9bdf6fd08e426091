/**
 * The @moleculer/channels NATS JetStream adapter, made safe for nodes that start at the same
 * moment. Each node subscribes to a shared durable consumer with its own deliver subject; when
 * two nodes create that consumer concurrently, both see "not found", both add it, and the loser
 * gets "consumer name already in use" — its service then fails to start. Retrying binds the
 * loser to the consumer the winner created (nats.js reuses an existing durable's subject).
 */
import { Adapters } from "@moleculer/channels";

type Chan = { id: string; name: string };
type BaseNats = new (opts: unknown) => {
  subscribe(chan: Chan, svc: unknown): Promise<void>;
  activeMessages: Map<string, unknown[]>;
  logger: { warn(...a: unknown[]): void };
};

const NatsAdapter = (Adapters as unknown as { NATS: BaseNats }).NATS;

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
}
