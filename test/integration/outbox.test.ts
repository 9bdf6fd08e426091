/**
 * The transactional outbox and idempotent consumers (mixins/outbox.mixin.ts), on both channel
 * adapters: in-process (embedded) and NATS JetStream with producer and consumer on different
 * nodes (cluster). A producer writes an event in its transaction; the relay publishes it; a
 * consumer applies it through `once()`, so a redelivered event id changes nothing.
 */
import crypto from "node:crypto";
import { ServiceBroker, ServiceSchema } from "moleculer";
import { DataTypes, QueryTypes, Sequelize, Transaction } from "sequelize";
import { brokerOptions } from "../../moleculer.config";
import { DbMixin } from "../../mixins/db.mixin";
import { EventEnvelope, OutboxMixin } from "../../mixins/outbox.mixin";
import { parseConfig } from "../../services/shared/config";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { migrate } from "../../services/shared/migrator";
import { cleanupNamespace, testEnv, waitFor } from "../helpers/shop";

jest.setTimeout(60_000);

const CHANNEL = "outboxtest.happened";

/** DbMixin wants a model; the marker table is as good as any. */
const defineModels = (s: Sequelize) => ({
  Marker: s.define("OutboxTestMarker", { consumer: { type: DataTypes.STRING, primaryKey: true }, eventId: { type: DataTypes.STRING, primaryKey: true } }, {
    tableName: "processed_events",
    underscored: true,
    timestamps: false,
  }),
});

interface Received {
  envelope: EventEnvelope<{ n: number }>;
  applied: boolean;
}

function producer(): ServiceSchema {
  return {
    name: "outboxProducer",
    mixins: [DbMixin({ service: "outboxProducer", define: defineModels, primary: "Marker" }), OutboxMixin({ producer: "outboxtest" })],
    actions: {
      /** one business write + its event in one transaction; `fail` rolls both back */
      produce: {
        params: { n: "number", fail: { type: "boolean", optional: true } },
        async handler(this: any, ctx: { params: { n: number; fail?: boolean } }) {
          return this.tx(async (t: Transaction) => {
            await this.sequelize.query("INSERT INTO outbox_test_effects (event_id, n, created_at) VALUES (?, ?, ?)", {
              replacements: [`produced-${ctx.params.n}`, ctx.params.n, new Date()],
              transaction: t,
            });
            const env = await this.outbox(t, CHANNEL, { n: ctx.params.n });
            if (ctx.params.fail) throw new Error("rolled back on purpose");
            return env;
          });
        },
      },
    },
  } as unknown as ServiceSchema;
}

function consumer(received: Received[], opts: { failFirst?: Set<number> } = {}): ServiceSchema {
  return {
    name: "outboxConsumer",
    mixins: [DbMixin({ service: "outboxConsumer", define: defineModels, primary: "Marker" }), OutboxMixin({ producer: "outboxconsumer" })],
    channels: {
      [CHANNEL]: {
        group: "outbox-test",
        async handler(this: any, envelope: EventEnvelope<{ n: number }>) {
          const { applied } = await this.once("outbox-test", envelope.eventId, async (t: Transaction) => {
            await this.sequelize.query("INSERT INTO outbox_test_effects (event_id, n, created_at) VALUES (?, ?, ?)", {
              replacements: [`consumed-${envelope.eventId}`, envelope.data.n, new Date()],
              transaction: t,
            });
            if (opts.failFirst?.delete(envelope.data.n)) throw new Error("effect failed on purpose");
          });
          received.push({ envelope, applied });
        },
      },
    },
  } as unknown as ServiceSchema;
}

function outboxSuite(shape: "embedded" | "cluster") {
  describe(`outbox (${shape})`, () => {
    const id = crypto.randomBytes(4).toString("hex");
    const env = testEnv(shape, id);
    const cfg = (node: string) => parseConfig({ ...process.env, ...env, NODE_ID: `${node}-${id}` });
    let producerNode: ServiceBroker;
    let consumerNode: ServiceBroker;
    const brokers: ServiceBroker[] = [];
    let db: Sequelize;
    const received: Received[] = [];
    const failFirst = new Set<number>();

    const effects = async (like: string) => {
      const [r] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM outbox_test_effects WHERE event_id LIKE ?", {
        replacements: [like],
        type: QueryTypes.SELECT,
      });
      return Number(r.n);
    };
    const arrivals = (eventId: string) => received.filter((r) => r.envelope.eventId === eventId);

    beforeAll(async () => {
      await migrate(env.DATABASE_URL);
      db = acquireSequelize(env.DATABASE_URL);
      await db.query("CREATE TABLE outbox_test_effects (event_id VARCHAR(120) PRIMARY KEY, n INTEGER NOT NULL, created_at DATETIME NOT NULL)");
      producerNode = new ServiceBroker(brokerOptions(cfg("producer")));
      brokers.push(producerNode);
      producerNode.createService(producer());
      if (shape === "cluster") {
        consumerNode = new ServiceBroker(brokerOptions(cfg("consumer")));
        brokers.push(consumerNode);
      } else {
        consumerNode = producerNode;
      }
      await Promise.all(brokers.map((b) => b.start()));
      if (shape === "cluster") {
        // published before any consumer exists: JetStream must keep it (the relay creates the stream)
        const early = await producerNode.call<EventEnvelope, unknown>("outboxProducer.produce", { n: 0 });
        await waitFor(async () => (await pending()) === 0, { what: "early event published" });
        consumerNode.createService(consumer(received, { failFirst }));
        await waitFor(() => arrivals(early.eventId).length > 0, { what: "early event delivered to a late consumer" });
      } else {
        consumerNode.createService(consumer(received, { failFirst }));
        await consumerNode.waitForServices(["outboxConsumer"]);
      }
    });

    const pending = async () => {
      const [r] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL", { type: QueryTypes.SELECT });
      return Number(r.n);
    };

    afterAll(async () => {
      for (const b of [...brokers].reverse()) await b.stop().catch(() => undefined);
      if (db) await releaseSequelize(env.DATABASE_URL);
      await cleanupNamespace(env);
    });

    it("relays an event written in a transaction to the channel consumer, once", async () => {
      const env1 = await producerNode.call<EventEnvelope, unknown>("outboxProducer.produce", { n: 1 });
      expect(env1).toMatchObject({ type: CHANNEL, producer: "outboxtest", data: { n: 1 } });
      await waitFor(() => arrivals(env1.eventId).length > 0, { what: "event delivered" });
      expect(arrivals(env1.eventId)[0]).toMatchObject({ applied: true, envelope: env1 });
      await waitFor(async () => (await pending()) === 0, { what: "outbox row marked published" });
      expect(await effects(`consumed-${env1.eventId}`)).toBe(1);
    });

    it("a rolled-back transaction publishes nothing", async () => {
      await expect(producerNode.call("outboxProducer.produce", { n: 2, fail: true })).rejects.toThrow(/on purpose/);
      expect(await effects("produced-2")).toBe(0);
      const [r] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE payload LIKE ?", { replacements: ['%"n":2%'], type: QueryTypes.SELECT });
      expect(Number(r.n)).toBe(0);
    });

    it("once() ignores a redelivered event id", async () => {
      const env3 = await producerNode.call<EventEnvelope, unknown>("outboxProducer.produce", { n: 3 });
      await waitFor(() => arrivals(env3.eventId).length === 1, { what: "first delivery" });
      // at-least-once delivery: the same envelope arrives again (a second publish under a new
      // broker message id, as a redelivery after a lost ack would look to the consumer)
      const send = (producerNode as unknown as { sendToChannel(c: string, p: unknown, o?: unknown): Promise<void> }).sendToChannel.bind(producerNode);
      await send(CHANNEL, env3, { msgID: `${env3.eventId}-again` });
      await waitFor(() => arrivals(env3.eventId).length === 2, { what: "redelivery" });
      expect(arrivals(env3.eventId).map((r) => r.applied)).toEqual([true, false]);
      expect(await effects(`consumed-${env3.eventId}`)).toBe(1);
    });

    it("once() rolls the marker back with a failed effect, so a retry applies it", async () => {
      const direct = consumerNode.getLocalService("outboxConsumer") as unknown as {
        once(c: string, id: string, fn: (t: Transaction) => Promise<unknown>): Promise<{ applied: boolean }>;
        sequelize: Sequelize;
      };
      const eventId = `direct-${id}`;
      await expect(direct.once("outbox-test", eventId, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
      // a unique violation inside the effect is the effect's failure, not "already processed"
      await expect(
        direct.once("outbox-test", eventId, async (t) => {
          await direct.sequelize.query("INSERT INTO outbox_test_effects (event_id, n, created_at) VALUES (?, 0, ?)", { replacements: ["produced-1", new Date()], transaction: t });
        }),
      ).rejects.toMatchObject({ name: "SequelizeUniqueConstraintError" });
      expect(await direct.once("outbox-test", eventId, async () => undefined)).toEqual({ applied: true, result: undefined });
      expect(await direct.once("outbox-test", eventId, async () => undefined)).toEqual({ applied: false });
    });

    if (shape === "cluster") {
      it("a consumer failure is redelivered by JetStream and applied once", async () => {
        failFirst.add(4);
        const env4 = await producerNode.call<EventEnvelope, unknown>("outboxProducer.produce", { n: 4 });
        await waitFor(() => arrivals(env4.eventId).some((r) => r.applied), { what: "redelivered after nak" });
        expect(await effects(`consumed-${env4.eventId}`)).toBe(1);
      });

      it("JetStream drops a re-publish of the same event id (relay retried after a crash)", async () => {
        const env5 = await producerNode.call<EventEnvelope, unknown>("outboxProducer.produce", { n: 5 });
        await waitFor(() => arrivals(env5.eventId).length === 1, { what: "delivery" });
        await waitFor(async () => (await pending()) === 0, { what: "published" });
        // as if the node died after publishing but before recording it
        await db.query("UPDATE outbox SET published_at = NULL WHERE event_id = ?", { replacements: [env5.eventId] });
        await waitFor(async () => (await pending()) === 0, { what: "re-published" });
        // a marker event after it proves the consumer has caught up past the duplicate
        const env6 = await producerNode.call<EventEnvelope, unknown>("outboxProducer.produce", { n: 6 });
        await waitFor(() => arrivals(env6.eventId).length === 1, { what: "later event" });
        expect(arrivals(env5.eventId)).toHaveLength(1);
      });
    }
  });
}

outboxSuite("embedded");
outboxSuite("cluster");
