/**
 * Dead letters, in both shapes: a consumer that keeps failing a message gives up after its
 * `maxRetries`; the message is recorded with its payload and error, listed at
 * GET /admin/dead-letters and counted in mall_dead_letters_total. Once the consumer is fixed,
 * POST /admin/dead-letters/:id/replay publishes it again and it is processed once; replaying it
 * a second time publishes nothing.
 * Cluster: producer and the gateway/ops on one node, the consumer on another, over JetStream.
 * Embedded: the outbox's in-process delivery dead-letters to ops directly.
 */
import { ServiceBroker, ServiceSchema } from "moleculer";
import { DataTypes, QueryTypes, Sequelize } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { EventEnvelope, OutboxMixin } from "../../mixins/outbox.mixin";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { nodeMetrics, sample } from "../helpers/metrics";
import { Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(90_000);

const CHANNEL = "dltest.happened";
const GROUP = "dltest-consumer";

const producer: ServiceSchema = {
  name: "dlProducer",
  mixins: [
    DbMixin({
      service: "dlProducer",
      // a model is required by the mixin; the producer only writes outbox rows
      define: (s: Sequelize) => ({ Marker: s.define("DlTestMarker", { consumer: { type: DataTypes.STRING, primaryKey: true } }, { tableName: "processed_events", timestamps: false }) }),
      primary: "Marker",
    }),
    OutboxMixin({ producer: "dltest" }),
  ],
  actions: {
    produce: {
      params: { n: "number" },
      handler(this: any, ctx: { params: { n: number } }) {
        return this.tx((t: unknown) => this.outbox(t, CHANNEL, { n: ctx.params.n }));
      },
    },
  },
} as unknown as ServiceSchema;

describe.each([
  { shape: "embedded" as const, nodes: undefined },
  { shape: "cluster" as const, nodes: [["api", "users", "ops"], ["inventory"]] },
])("dead letters ($shape)", ({ shape, nodes }) => {
  let shop: Shop;
  let admin: string;
  let db: Sequelize;
  const state = { failing: true, processed: new Map<string, number>() };

  beforeAll(async () => {
    shop = await startShop({ shape, nodes });
    admin = await loginAdmin(shop);
    db = acquireSequelize(shop.databaseUrl);
    const consumerNode: ServiceBroker = shop.brokers[shop.brokers.length - 1];
    await consumerNode.createService({
      name: "dlConsumer",
      channels: {
        [CHANNEL]: {
          group: GROUP,
          maxRetries: 2,
          async handler(env: EventEnvelope<{ n: number }>) {
            if (state.failing) throw new Error(`consumer is broken on purpose (n=${env.data.n})`);
            state.processed.set(env.eventId, (state.processed.get(env.eventId) ?? 0) + 1);
          },
        },
      },
    } as unknown as ServiceSchema);
    await shop.brokers[0].createService(producer);
    await shop.brokers[0].waitForServices(["dlConsumer", "dlProducer", "ops"]);
  });
  afterAll(async () => {
    if (db) await releaseSequelize(shop.databaseUrl);
    await shop?.stop();
  });

  const produce = (n: number) => shop.brokers[0].call<EventEnvelope, { n: number }>("dlProducer.produce", { n });
  const list = async (query = "") => {
    const r = await client(shop).get(`admin/dead-letters?channel=${CHANNEL}${query}`, { token: admin });
    expect(r.status).toBe(200);
    return r.body.data as { items: any[]; total: number };
  };
  // counted on the node that runs ops, on its own metrics port (the gateway does not serve metrics)
  const metric = async () => sample(await nodeMetrics(shop.brokerFor("ops")), "mall_dead_letters_total", { channel: CHANNEL, group: GROUP });

  it("records a message its consumer gave up on, replays it once the consumer is fixed, and replays it only once", async () => {
    const event = await produce(1);
    const dead = await waitFor(async () => (await list()).items.find((d) => d.eventId === event.eventId), { what: "dead letter listed" });
    expect(dead).toMatchObject({ channel: CHANNEL, group: GROUP, status: "NEW", attempts: 2, replays: 0, payload: event });
    expect(dead.error).toMatch(/broken on purpose \(n=1\)/);
    expect(state.processed.has(event.eventId)).toBe(false);
    expect(await metric()).toBe(1);

    state.failing = false;
    const replay = await client(shop).post(`admin/dead-letters/${dead.id}/replay`, {}, { token: admin });
    expect(replay.status).toBe(200);
    expect(replay.body.data).toMatchObject({ id: dead.id, status: "REPLAYED", replays: 1 });
    await waitFor(() => state.processed.get(event.eventId) === 1, { what: "replayed message processed" });

    const again = await client(shop).post(`admin/dead-letters/${dead.id}/replay`, {}, { token: admin });
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ status: "REPLAYED", replays: 1 });
    const [{ n }] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE producer = 'ops' AND channel = ?", { replacements: [CHANNEL], type: QueryTypes.SELECT });
    expect(Number(n)).toBe(1);
    // a later message goes through; the replayed one was still handled exactly once
    const later = await produce(2);
    await waitFor(() => state.processed.get(later.eventId) === 1, { what: "later message processed" });
    expect(state.processed.get(event.eventId)).toBe(1);

    expect((await list("&status=NEW")).items.map((d) => d.id)).not.toContain(dead.id);
    expect((await list("&status=REPLAYED")).items.map((d) => d.id)).toContain(dead.id);
    expect(await metric()).toBe(1);
  });

  it("a replayed message that fails again is listed as NEW again, not twice", async () => {
    state.failing = true;
    const event = await produce(3);
    const dead = await waitFor(async () => (await list("&status=NEW")).items.find((d) => d.eventId === event.eventId), { what: "dead letter listed" });
    expect(await metric()).toBe(2);
    expect((await client(shop).post(`admin/dead-letters/${dead.id}/replay`, {}, { token: admin })).body.data.status).toBe("REPLAYED");
    const again = await waitFor(async () => (await list("&status=NEW")).items.find((d) => d.eventId === event.eventId), { what: "dead again" });
    expect(again).toMatchObject({ id: dead.id, replays: 1, attempts: 2 });
    expect((await list()).items.filter((d) => d.eventId === event.eventId)).toHaveLength(1);
    expect(await metric()).toBe(3);

    state.failing = false;
    expect((await client(shop).post(`admin/dead-letters/${dead.id}/replay`, {}, { token: admin })).body.data).toMatchObject({ status: "REPLAYED", replays: 2 });
    await waitFor(() => state.processed.get(event.eventId) === 1, { what: "processed after the second replay" });
  });

  it("is for operators and admins only; an unknown id is 404", async () => {
    const customer = await newCustomer(shop);
    expect((await client(shop).get("admin/dead-letters", { token: customer.token })).status).toBe(403);
    expect((await client(shop).post("admin/dead-letters/1/replay", {}, { token: customer.token })).status).toBe(403);
    const missing = await client(shop).post("admin/dead-letters/999999/replay", {}, { token: admin });
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe("NOT_FOUND");
  });
});
