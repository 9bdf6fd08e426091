/**
 * Operations that belong to no business domain. Today: dead letters — channel messages a
 * consumer group failed `maxRetries` times. They are recorded from the DEAD_LETTER channel (the
 * JetStream dead-letter stream in the cluster, the outbox's in-process delivery when embedded),
 * listed for operators, replayed on request, and counted in mall_dead_letters_total{channel,group}.
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Sequelize, Transaction } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { OpsModels, defineOpsModels } from "../../models/ops";
import type { Meta } from "../shared/meta";
import { bizError } from "../shared/errors";
import { DeadLetterStore, payloadDigest } from "./dead-letter-store";
import { DEAD_LETTER_CHANNEL, DeadLetterDto, DeadLetterHeaders, DeadLetterPageSchema, DeadLetterSchema, ListDeadLettersParams } from "./ops.contracts";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

interface ChannelAdapter {
  opts?: { prefix?: string | null };
  parseMessageHeaders?(raw: unknown): Record<string, string> | null;
}

type OpsThis = Service & {
  models: OpsModels;
  sequelize: Sequelize;
  republish(t: Transaction, channel: string, payload: unknown, rowId: string): Promise<void>;
  deadLetters: DeadLetterStore;
  recordDeadLetter(payload: unknown, raw: unknown): Promise<void>;
};

/** Prometheus: mall_dead_letters_total{channel, group} */
export const DEAD_LETTERS_METRIC = "mall.dead_letters.total";

const ADMIN = ["operator", "admin"];

const OpsService = {
  name: "ops",
  mixins: [DbMixin({ service: "ops", define: defineOpsModels, primary: "DeadLetter" }), OutboxMixin({ producer: "ops" })],
  settings: { rest: "/" },

  actions: {
    deadLetters: {
      rest: "GET /admin/dead-letters",
      openapi: { response: DeadLetterPageSchema },
      roles: ADMIN,
      summary: "Messages a consumer gave up on, newest first, with their payload (admin)",
      params: {
        channel: { type: "string", min: 1, max: 128, optional: true },
        status: { type: "enum", values: ["NEW", "REPLAYED"], optional: true },
        page: { type: "number", integer: true, min: 1, default: 1, convert: true },
        pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
      },
      async handler(this: OpsThis, ctx: Ctx<ListDeadLettersParams>) {
        const { page, pageSize } = ctx.params;
        return { ...(await this.deadLetters.list(ctx.params)), page, pageSize };
      },
    },

    replayDeadLetter: {
      rest: "POST /admin/dead-letters/:id/replay",
      openapi: { response: DeadLetterSchema, errors: ["NOT_FOUND"] },
      roles: ADMIN,
      summary: "Publish a dead letter again on its channel; consumers are idempotent, and replaying a replayed one does nothing (admin)",
      params: { id: { type: "number", integer: true, positive: true, convert: true } },
      async handler(this: OpsThis, ctx: Ctx<{ id: number }>): Promise<DeadLetterDto> {
        const replayed = await this.deadLetters.replay(ctx.params.id);
        if (!replayed) throw bizError("NOT_FOUND", `no dead letter ${ctx.params.id}`, { id: ctx.params.id });
        return replayed;
      },
    },
  },

  channels: {
    [DEAD_LETTER_CHANNEL]: {
      group: "ops",
      // a dead letter that cannot be stored yet (database down) is retried for hours, and is
      // never itself dead-lettered (that would feed it back to this consumer)
      maxRetries: 10_000,
      deadLettering: { enabled: false },
      async handler(this: OpsThis, payload: unknown, raw: unknown) {
        await this.recordDeadLetter(payload, raw);
      },
    },
  },

  methods: {
    async recordDeadLetter(this: OpsThis, payload: unknown, raw: unknown) {
      const adapter = (this.broker as unknown as { channelAdapter?: ChannelAdapter }).channelAdapter;
      const headers = (adapter?.parseMessageHeaders ? adapter.parseMessageHeaders(raw) : (raw as { headers?: Record<string, string> })?.headers) ?? {};
      // the adapter names channels with the namespace in front (`mall.order.paid`)
      const prefix = adapter?.opts?.prefix ? `${adapter.opts.prefix}.` : "";
      const original = headers[DeadLetterHeaders.ORIGINAL_CHANNEL] ?? "unknown";
      const channel = prefix && original.startsWith(prefix) ? original.slice(prefix.length) : original;
      const group = headers[DeadLetterHeaders.ORIGINAL_GROUP] ?? "unknown";
      const envelopeId = (payload as { eventId?: unknown } | null)?.eventId;
      const eventId = typeof envelopeId === "string" ? envelopeId : (headers[DeadLetterHeaders.EVENT_ID] ?? payloadDigest(payload));
      const attempts = Number(headers[DeadLetterHeaders.ATTEMPTS] ?? 0) || 0;
      const error = headers[DeadLetterHeaders.ERROR] ?? null;
      if (await this.deadLetters.record({ channel, group, eventId, payload, error, attempts })) {
        this.broker.metrics.increment(DEAD_LETTERS_METRIC, { channel, group });
        this.logger.error(`dead letter: ${channel} ${eventId} (group ${group}) after ${attempts} attempts: ${error ?? "no error given"}`);
      }
    },
  },

  created(this: OpsThis) {
    this.deadLetters = new DeadLetterStore({ sequelize: this.sequelize, models: this.models, republish: (t, c, p, id) => this.republish(t, c, p, id) });
    this.broker.metrics.register({
      type: "counter",
      name: DEAD_LETTERS_METRIC,
      labelNames: ["channel", "group"],
      description: "Channel messages a consumer group gave up on (recorded in GET /admin/dead-letters)",
    });
  },
};

export default OpsService as unknown as ServiceSchema;
