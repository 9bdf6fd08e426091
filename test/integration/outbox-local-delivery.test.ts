/**
 * Embedded shape: the outbox delivers to in-process consumers itself (Fake channel adapter, no
 * transporter), so a consumer failure is retried instead of lost. A row is marked published only
 * once every consumer group has handled it; a group that already succeeded is not run again; a
 * failing row does not hold up the rows behind it; the groups of one event run side by side.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { ServiceBroker, ServiceSchema } from "moleculer";
import { DataTypes, QueryTypes, Sequelize } from "sequelize";
import { brokerOptions } from "../../moleculer.config";
import { DbMixin } from "../../mixins/db.mixin";
import { EventEnvelope, OutboxMixin } from "../../mixins/outbox.mixin";
import { parseConfig } from "../../services/shared/config";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { migrate } from "../../services/shared/migrator";
import { testEnv, waitFor } from "../helpers/shop";

const CHANNEL = "localtest.happened";
const defineModels = (s: Sequelize) => ({
  Marker: s.define("LocalTestMarker", { consumer: { type: DataTypes.STRING, primaryKey: true }, eventId: { type: DataTypes.STRING, primaryKey: true } }, {
    tableName: "processed_events",
    underscored: true,
    timestamps: false,
  }),
});

describe("outbox in-process delivery (embedded)", () => {
  const id = crypto.randomBytes(4).toString("hex");
  const env = testEnv("embedded", id);
  let broker: ServiceBroker;
  let db: Sequelize;
  const calls: Record<string, number[]> = { steady: [], flaky: [] };
  /** n → how many more times the flaky group fails it */
  const failures = new Map<number, number>();
  /** n → what the steady group waits for before it finishes n */
  const gates = new Map<number, Promise<void>>();

  const consumer = (group: string, fails: boolean): ServiceSchema =>
    ({
      name: `local-${group}`,
      channels: {
        [CHANNEL]: {
          group,
          async handler(env: EventEnvelope<{ n: number }>) {
            calls[group].push(env.data.n);
            if (!fails) await gates.get(env.data.n);
            const left = failures.get(env.data.n) ?? 0;
            if (fails && left > 0) {
              failures.set(env.data.n, left - 1);
              throw new Error(`${group} fails ${env.data.n} on purpose`);
            }
          },
        },
      },
    }) as unknown as ServiceSchema;

  const published = async (eventId: string) => {
    const [r] = await db.query<{ p: string | null; a: number }>("SELECT published_at AS p, attempts AS a FROM outbox WHERE event_id = ?", {
      replacements: [eventId],
      type: QueryTypes.SELECT,
    });
    return r;
  };

  beforeAll(async () => {
    await migrate(env.DATABASE_URL);
    db = acquireSequelize(env.DATABASE_URL);
    broker = new ServiceBroker(brokerOptions(parseConfig({ ...process.env, ...env, NODE_ID: `local-${id}` })));
    broker.createService({
      name: "localProducer",
      mixins: [DbMixin({ service: "localProducer", define: defineModels, primary: "Marker" }), OutboxMixin({ producer: "localtest" })],
      actions: {
        produce: {
          params: { n: "number", orderNo: { type: "string", optional: true } },
          handler(this: any, ctx: { params: { n: number; orderNo?: string } }) {
            return this.tx((t: unknown) => this.outbox(t, CHANNEL, { n: ctx.params.n, ...(ctx.params.orderNo ? { orderNo: ctx.params.orderNo } : {}) }));
          },
        },
        /** several events in one transaction: the relay finds them in one pass */
        produceMany: {
          params: { events: { type: "array", items: { type: "object", props: { n: "number", orderNo: "string" } } } },
          handler(this: any, ctx: { params: { events: { n: number; orderNo: string }[] } }) {
            return this.tx(async (t: unknown) => {
              const out: EventEnvelope[] = [];
              for (const e of ctx.params.events) out.push(await this.outbox(t, CHANNEL, e));
              return out;
            });
          },
        },
      },
    } as unknown as ServiceSchema);
    broker.createService(consumer("steady", false));
    broker.createService(consumer("flaky", true));
    await broker.start();
  });
  afterAll(async () => {
    await broker?.stop();
    if (db) await releaseSequelize(env.DATABASE_URL);
    fs.rmSync(env.DATA_DIR, { recursive: true, force: true });
  });

  it("retries a failing consumer group until it succeeds, then marks the row published; the other group runs once", async () => {
    failures.set(1, 2);
    const e = await broker.call<EventEnvelope, { n: number }>("localProducer.produce", { n: 1 });
    await waitFor(() => calls.steady.includes(1), { what: "steady consumer" });
    // not published while a group still owes a successful run
    expect((await published(e.eventId)).p).toBeNull();
    await waitFor(async () => (await published(e.eventId)).p !== null, { what: "published after retries", timeout: 10_000 });
    expect(calls.flaky.filter((n) => n === 1)).toHaveLength(3);
    expect(calls.steady.filter((n) => n === 1)).toHaveLength(1);
    expect(Number((await published(e.eventId)).a)).toBe(3);
  });

  it("a row that keeps failing does not hold up the rows after it", async () => {
    failures.set(2, 1_000);
    const stuck = await broker.call<EventEnvelope, { n: number }>("localProducer.produce", { n: 2 });
    const next = await broker.call<EventEnvelope, { n: number }>("localProducer.produce", { n: 3 });
    await waitFor(async () => (await published(next.eventId)).p !== null, { what: "later row published" });
    expect(calls.flaky).toContain(3);
    expect((await published(stuck.eventId)).p).toBeNull();
    expect(Number((await published(stuck.eventId)).a)).toBeGreaterThanOrEqual(1);
  });

  it("delivers an event to its groups side by side: one slow group does not hold up the others", async () => {
    let open!: () => void;
    gates.set(4, new Promise<void>((r) => (open = r)));
    const e = await broker.call<EventEnvelope, { n: number }>("localProducer.produce", { n: 4 });
    // the steady group is still busy with 4 (its gate is shut) when the flaky one has taken it
    await waitFor(() => calls.steady.includes(4) && calls.flaky.includes(4), { what: "both groups running 4" });
    expect((await published(e.eventId)).p).toBeNull();
    open();
    await waitFor(async () => (await published(e.eventId)).p !== null, { what: "published once both finished" });
    expect(calls.steady.filter((n) => n === 4)).toHaveLength(1);
    expect(calls.flaky.filter((n) => n === 4)).toHaveLength(1);
  });

  it("delivers the events of different orders side by side, and the events of one order in outbox order", async () => {
    let open!: () => void;
    gates.set(5, new Promise<void>((r) => (open = r)));
    const [first, sameOrder, otherOrder] = await broker.call<EventEnvelope[], { events: { n: number; orderNo: string }[] }>("localProducer.produceMany", {
      events: [
        { n: 5, orderNo: "A-1" },
        { n: 6, orderNo: "A-1" },
        { n: 7, orderNo: "B-1" },
      ],
    });
    // A-1's first event is held by the steady group; B-1's event goes past it, A-1's second waits
    await waitFor(() => calls.steady.includes(7) && calls.flaky.includes(7), { what: "the other order's event delivered" });
    expect(calls.steady).not.toContain(6);
    expect(calls.flaky).not.toContain(6);
    expect((await published(first.eventId)).p).toBeNull();
    open();
    await waitFor(async () => (await published(sameOrder.eventId)).p !== null, { what: "the same order's second event delivered" });
    expect(calls.steady.indexOf(6)).toBeGreaterThan(calls.steady.indexOf(5));
    expect((await published(first.eventId)).p).not.toBeNull();
  });
});
