/**
 * The points ledger of the marketing service, in both shapes: holds taken and given back by
 * checkout's internal calls, the order facts that make them final (paid → spend + earn,
 * cancelled → unfreeze, refunded → return + take back) delivered through a real outbox and
 * channel (in-process when embedded, NATS JetStream in the cluster), and GET /users/me/points.
 *
 * marketing.service.ts is built elsewhere: the suite starts a shop without it and adds a
 * `marketing` service made of DbMixin + OutboxMixin + PointsMixin, with a stand-in coupon
 * consumer of `order.paid` in group `marketing-coupons`, as the merged service will have.
 */
import crypto from "node:crypto";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { ServiceBroker, ServiceSchema } from "moleculer";
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { EventEnvelope, OutboxMixin } from "../../mixins/outbox.mixin";
import { definePointsModels } from "../../models/marketing-points";
import { MarketingActions, MarketingGroups } from "../../services/marketing/marketing.contracts";
import PointsMixin from "../../services/marketing/points.mixin";
import { OrderCancelledEvent, OrderEvents, OrderPaidEvent, OrderRefundedEvent } from "../../services/orders/orders.contracts";
import { Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";

interface MarketingSvc {
  sequelize: Sequelize;
  tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T>;
  outbox(t: Transaction, channel: string, data: unknown): Promise<EventEnvelope>;
  republish(t: Transaction, channel: string, payload: unknown, rowId: string): Promise<void>;
  pointsBalanceOf(userId: number): Promise<number>;
}

const shapes: [string, Parameters<typeof startShop>[0], number][] = [
  ["embedded", { shape: "embedded", nodes: [["api", "users"]] }, 0],
  // marketing on a node of its own: every call and every event crosses NATS
  ["cluster", { shape: "cluster", nodes: [["api", "users"], ["ops"]] }, 1],
];

describe.each(shapes)("marketing points (%s)", (_name, opts, marketingNode) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  let gateway: ServiceBroker;
  let svc: MarketingSvc;
  /** event ids as the points consumers and the stand-in coupon consumer received them */
  const pointsSeen: string[] = [];
  const couponsSeen: string[] = [];

  const marketing = (): ServiceSchema =>
    ({
      name: "marketing",
      mixins: [DbMixin({ service: "marketing", define: definePointsModels, primary: "PointsAccount" }), OutboxMixin({ producer: "marketing" }), PointsMixin],
      settings: { rest: "/" },
      // as marketing.service.ts: one consumer per channel, the coupon side (here a stand-in) then points
      channels: {
        [OrderEvents.PAID]: {
          group: "marketing",
          async handler(this: { pointsOnPaid(e: EventEnvelope): Promise<void> }, env: EventEnvelope) {
            couponsSeen.push(env.eventId);
            await this.pointsOnPaid(env);
          },
        },
        [OrderEvents.CANCELLED]: {
          group: "marketing",
          handler(this: { pointsOnCancelled(e: EventEnvelope): Promise<void> }, env: EventEnvelope) {
            return this.pointsOnCancelled(env);
          },
        },
        [OrderEvents.REFUNDED]: {
          group: "marketing",
          handler(this: { pointsOnRefunded(e: EventEnvelope): Promise<void> }, env: EventEnvelope) {
            return this.pointsOnRefunded(env);
          },
        },
      },
      methods: {
        // a spy on every delivery to the points consumers, then the real work
        async onPointsFact(this: unknown, env: EventEnvelope, effect: unknown) {
          pointsSeen.push(env.eventId);
          return (PointsMixin.methods!.onPointsFact as (...a: unknown[]) => Promise<void>).call(this, env, effect);
        },
      },
    }) as unknown as ServiceSchema;

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    gateway = shop.brokers[0];
    shop.brokers[marketingNode].createService(marketing());
    await gateway.waitForServices(["marketing"], 20_000);
    // the gateway has the routes once an anonymous call is refused (401) rather than unknown (404)
    await waitFor(async () => (await http.get("users/me/points")).status === 401, { what: "points routes" });
    svc = shop.brokers[marketingNode].getLocalService("marketing") as unknown as MarketingSvc;
    admin = await loginAdmin(shop);
  });
  afterAll(() => shop?.stop());

  const orderNo = () => `T${crypto.randomBytes(8).toString("hex")}`;
  const freeze = (userId: number, points: number, no: string) => gateway.call(MarketingActions.FREEZE_POINTS, { userId, points, orderNo: no });
  const unfreeze = (no: string) => gateway.call(MarketingActions.UNFREEZE_POINTS, { orderNo: no, reason: "checkout failed" });
  const failure = (p: Promise<unknown>) => p.then(() => null, (err: { type?: string }) => err.type);

  async function grant(userId: number, points: number, key = crypto.randomUUID()) {
    const r = await http.post(`admin/users/${userId}/points`, { points, reason: "welcome" }, { token: admin, headers: { "Idempotency-Key": key } });
    expect(r.status).toBe(200);
    return r.body.data;
  }
  async function points(token: string, query = "") {
    const r = await http.get(`users/me/points${query}`, { token });
    expect(r.status).toBe(200);
    return r.body.data;
  }

  /** Write an order fact through the marketing outbox; resolves once the points consumer has applied it. */
  async function publish<T>(channel: string, data: T): Promise<EventEnvelope<T>> {
    const env = (await svc.tx((t) => svc.outbox(t, channel, data))) as EventEnvelope<T>;
    await waitFor(() => processed(env.eventId), { what: `${channel} ${env.eventId} applied` });
    return env;
  }
  /** Deliver an event that was delivered before once more (same event id); resolves once the points consumer got it again. */
  async function redeliver(env: EventEnvelope) {
    const before = pointsSeen.filter((id) => id === env.eventId).length;
    await svc.tx((t) => svc.republish(t, env.type, env, `again-${crypto.randomUUID()}`));
    await waitFor(() => pointsSeen.filter((id) => id === env.eventId).length > before, { what: `redelivery of ${env.eventId}` });
  }
  async function processed(eventId: string): Promise<boolean> {
    const rows = await svc.sequelize.query("SELECT 1 AS x FROM processed_events WHERE consumer = ? AND event_id = ?", {
      replacements: [MarketingGroups.POINTS, eventId],
      type: QueryTypes.SELECT,
    });
    return rows.length === 1;
  }

  const paid = (userId: number, no: string, payable: number, held: number): OrderPaidEvent => ({
    orderNo: no,
    userId,
    paymentNo: `P${no}`,
    amount: payable,
    items: [{ skuId: 1, quantity: 1 }],
    source: "NORMAL",
    payable,
    holds: { couponId: null, points: held },
  });
  const cancelled = (userId: number, no: string, held: number): OrderCancelledEvent => ({
    orderNo: no,
    userId,
    reason: "buyer cancelled",
    source: "NORMAL",
    items: [{ skuId: 1, quantity: 1 }],
    holds: { couponId: null, points: held },
  });
  const refunded = (userId: number, no: string, refundId: number, amount: number, payable: number, held: number): OrderRefundedEvent => ({
    orderNo: no,
    userId,
    refundId,
    amount,
    payable,
    source: "NORMAL",
    holds: { couponId: null, points: held },
  });

  it("10 concurrent freezes of 100 points against a balance of 150: exactly one succeeds", async () => {
    const c = await newCustomer(shop);
    await grant(c.id, 150);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => freeze(c.id, 100, orderNo())));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(refused.map((r) => r.reason.type)).toEqual(Array(9).fill("INSUFFICIENT_POINTS"));
    const view = await points(c.token);
    expect(view).toMatchObject({ balance: 50, frozen: 100, total: 2 });
    expect(view.entries.map((e: { kind: string }) => e.kind)).toEqual(["FREEZE", "GRANT"]);
    expect(await svc.pointsBalanceOf(c.id)).toBe(50);
  });

  it("a freeze is taken once per order, given back once, and refused for bad input without changing anything", async () => {
    const c = await newCustomer(shop);
    await grant(c.id, 500);
    const no = orderNo();
    const tries = await Promise.all(Array.from({ length: 5 }, () => freeze(c.id, 200, no) as Promise<{ applied: boolean; status: string }>));
    expect(tries.filter((r) => r.applied)).toHaveLength(1);
    expect(tries.every((r) => r.status === "FROZEN")).toBe(true);
    expect(await points(c.token)).toMatchObject({ balance: 300, frozen: 200 });

    expect(await failure(freeze(c.id, 300, no))).toBe("POINTS_REFERENCE_CONFLICT");
    expect(await failure(freeze(c.id, 301, orderNo()))).toBe("INSUFFICIENT_POINTS");
    for (const bad of [0, -1, 1.5, "100"]) expect(await failure(gateway.call(MarketingActions.FREEZE_POINTS, { userId: c.id, points: bad, orderNo: orderNo() }))).toBe("VALIDATION_ERROR");
    expect(await points(c.token)).toMatchObject({ balance: 300, frozen: 200, total: 2 });

    const gives = await Promise.all(Array.from({ length: 5 }, () => unfreeze(no) as Promise<{ applied: boolean; status: string }>));
    expect(gives.filter((r) => r.applied)).toHaveLength(1);
    expect(gives.every((r) => r.status === "RELEASED")).toBe(true);
    expect(await points(c.token)).toMatchObject({ balance: 500, frozen: 0, total: 3 });
    // a late retry of the freeze does not take the points again
    expect(await failure(freeze(c.id, 200, no))).toBe("POINTS_HOLD_RELEASED");
    expect(await points(c.token)).toMatchObject({ balance: 500, frozen: 0 });
  });

  it("an unfreeze that comes before its freeze (the caller timed out and compensated) makes the late freeze refuse", async () => {
    const c = await newCustomer(shop);
    await grant(c.id, 100);
    const no = orderNo();
    expect(await unfreeze(no)).toMatchObject({ orderNo: no, applied: false, status: "RELEASED" });
    expect(await failure(freeze(c.id, 100, no))).toBe("POINTS_HOLD_RELEASED");
    expect(await points(c.token)).toMatchObject({ balance: 100, frozen: 0, total: 1 });
  });

  it("order.paid spends the frozen points and earns 1 point per whole yuan paid, once", async () => {
    const c = await newCustomer(shop);
    await grant(c.id, 1000);
    const no = orderNo();
    await freeze(c.id, 300, no);
    const env = await publish(OrderEvents.PAID, paid(c.id, no, 12_345, 300));
    expect(await points(c.token)).toMatchObject({ balance: 700 + 123, frozen: 0 });

    // the same event again, and the same fact under a new event id: nothing more
    await redeliver(env);
    await publish(OrderEvents.PAID, paid(c.id, no, 12_345, 300));
    const view = await points(c.token);
    expect(view).toMatchObject({ balance: 823, frozen: 0, total: 4 });
    expect(view.entries.slice(0, 2)).toEqual([
      expect.objectContaining({ kind: "EARN", delta: 123, frozenDelta: 0, balanceAfter: 823, orderNo: no }),
      expect.objectContaining({ kind: "SPEND", delta: 0, frozenDelta: -300, balanceAfter: 700, orderNo: no }),
    ]);
    // the coupons' group on the same channel of the same service got every event too
    await waitFor(() => couponsSeen.includes(env.eventId), { what: "coupon consumer" });

    // an order paid without points only earns
    const plain = orderNo();
    await publish(OrderEvents.PAID, paid(c.id, plain, 9_999, 0));
    expect(await points(c.token)).toMatchObject({ balance: 823 + 99, frozen: 0 });
  });

  it("order.cancelled gives the frozen points back once, however often it is delivered", async () => {
    const c = await newCustomer(shop);
    await grant(c.id, 400);
    const no = orderNo();
    await freeze(c.id, 250, no);
    expect(await points(c.token)).toMatchObject({ balance: 150, frozen: 250 });
    const env = await publish(OrderEvents.CANCELLED, cancelled(c.id, no, 250));
    await redeliver(env);
    await publish(OrderEvents.CANCELLED, cancelled(c.id, no, 250));
    const view = await points(c.token);
    expect(view).toMatchObject({ balance: 400, frozen: 0, total: 3 });
    expect(view.entries[0]).toMatchObject({ kind: "UNFREEZE", delta: 250, frozenDelta: -250, balanceAfter: 400, orderNo: no });
    // a cancelled order without points changes nothing
    await publish(OrderEvents.CANCELLED, cancelled(c.id, orderNo(), 0));
    expect(await points(c.token)).toMatchObject({ balance: 400, frozen: 0, total: 3 });
  });

  it("order.refunded returns the refund's share of the spent points and takes back its share of the earned ones, once per refund", async () => {
    const c = await newCustomer(shop);
    await grant(c.id, 1000);
    const no = orderNo();
    await freeze(c.id, 300, no);
    await publish(OrderEvents.PAID, paid(c.id, no, 20_000, 300));
    expect(await points(c.token)).toMatchObject({ balance: 700 + 200, frozen: 0 });

    // a quarter back: 75 of the 300 spent return, 50 of the 200 earned go
    const first = await publish(OrderEvents.REFUNDED, refunded(c.id, no, 9_000_001 + c.id, 5_000, 20_000, 300));
    expect(await points(c.token)).toMatchObject({ balance: 900 + 75 - 50 });
    await redeliver(first);
    await publish(OrderEvents.REFUNDED, refunded(c.id, no, 9_000_001 + c.id, 5_000, 20_000, 300));
    expect(await points(c.token)).toMatchObject({ balance: 925 });

    // the rest: 225 return, 150 go; altogether every spent point came back and every earned one went
    await publish(OrderEvents.REFUNDED, refunded(c.id, no, 9_500_001 + c.id, 15_000, 20_000, 300));
    const view = await points(c.token);
    expect(view).toMatchObject({ balance: 925 + 225 - 150, frozen: 0 });
    expect(view.entries.slice(0, 2)).toEqual([
      expect.objectContaining({ kind: "REVOKE", delta: -150, orderNo: no }),
      expect.objectContaining({ kind: "RETURN", delta: 225, orderNo: no }),
    ]);
    const moved = view.entries.filter((e: { orderNo?: string }) => e.orderNo === no).reduce((sum: number, e: { delta: number }) => sum + e.delta, 0);
    expect(moved).toBe(-300 + 0 + 200 + 75 - 50 + 225 - 150);
  });

  it("taking back earned points never goes below zero: what was already spent is recorded as a shortfall", async () => {
    const c = await newCustomer(shop);
    const no = orderNo();
    await publish(OrderEvents.PAID, paid(c.id, no, 30_000, 0));
    expect(await points(c.token)).toMatchObject({ balance: 300 });
    // the buyer puts 200 of the 300 earned points into another, unpaid order
    await freeze(c.id, 200, orderNo());
    const refundId = 9_900_001 + c.id;
    await publish(OrderEvents.REFUNDED, refunded(c.id, no, refundId, 30_000, 30_000, 0));
    const view = await points(c.token);
    expect(view).toMatchObject({ balance: 0, frozen: 200 });
    expect(view.entries[0]).toMatchObject({ kind: "REVOKE", delta: -100, balanceAfter: 0, orderNo: no });
    expect(view.entries[0].reason).toMatch(/200 of them no longer in the balance/);
    const [row] = await svc.sequelize.query<{ revoked: number; shortfall: number }>("SELECT revoked, shortfall FROM points_refunds WHERE refund_id = ?", {
      replacements: [String(refundId)],
      type: QueryTypes.SELECT,
    });
    expect({ revoked: Number(row.revoked), shortfall: Number(row.shortfall) }).toEqual({ revoked: 100, shortfall: 200 });
  });

  it("a refund that overtakes its order's payment waits for it", async () => {
    const c = await newCustomer(shop);
    const no = orderNo();
    const early = (await svc.tx((t) => svc.outbox(t, OrderEvents.REFUNDED, refunded(c.id, no, 9_990_001 + c.id, 10_000, 10_000, 0)))) as EventEnvelope;
    await waitFor(() => pointsSeen.includes(early.eventId), { what: "first delivery of the early refund" });
    expect(await processed(early.eventId)).toBe(false);
    await publish(OrderEvents.PAID, paid(c.id, no, 10_000, 0));
    await waitFor(() => processed(early.eventId), { what: "the early refund applied after the payment", timeout: 30_000 });
    expect(await points(c.token)).toMatchObject({ balance: 0, total: 2 });
  });

  it("GET /users/me/points pages the caller's own ledger, newest first; admin grants are idempotent and admin-only", async () => {
    const c = await newCustomer(shop);
    const other = await newCustomer(shop);
    const key = crypto.randomUUID();
    const once = await grant(c.id, 10, key);
    const again = await grant(c.id, 10, key);
    expect(once).toMatchObject({ balance: 10, frozen: 0, applied: true, entry: { kind: "GRANT", delta: 10, reason: "welcome" } });
    expect(again.entry.id).toBe(once.entry.id);
    for (const n of [20, 30, 40]) await grant(c.id, n);
    const page2 = await points(c.token, "?page=2&pageSize=2");
    expect(page2).toMatchObject({ balance: 100, frozen: 0, total: 4, page: 2, pageSize: 2 });
    expect(page2.entries.map((e: { delta: number }) => e.delta)).toEqual([20, 10]);
    expect(await points(other.token)).toEqual({ balance: 0, frozen: 0, entries: [], total: 0, page: 1, pageSize: 20 });

    expect((await http.get("users/me/points")).status).toBe(401);
    expect((await http.post(`admin/users/${c.id}/points`, { points: 5, reason: "x" }, { token: c.token })).status).toBe(403);
    const unknown = await http.post("admin/users/987654321/points", { points: 5, reason: "x" }, { token: admin });
    expect([unknown.status, unknown.body.type]).toEqual([404, "USER_NOT_FOUND"]);
    for (const bad of [0, -5, 1.5, "100"]) expect((await http.post(`admin/users/${c.id}/points`, { points: bad, reason: "x" }, { token: admin })).status).toBe(422);
    expect((await points(c.token)).balance).toBe(100);
  });

  it("the OpenAPI document describes both routes, and their answers match it", async () => {
    const doc = (await http.get("/api/openapi.json")).body;
    const view = doc.paths["/api/v1/users/me/points"]?.get;
    const grantOp = doc.paths["/api/v1/admin/users/{id}/points"]?.post;
    expect(view && grantOp).toBeTruthy();
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    // as the conformance suite does: an undeclared field fails
    const closed = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(closed);
      if (!x || typeof x !== "object") return x;
      const out: Record<string, unknown> = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, closed(v)]));
      if (out.type === "object" && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
      return out;
    };
    const c = await newCustomer(shop);
    const granted = await http.post(`admin/users/${c.id}/points`, { points: 7, reason: "doc" }, { token: admin });
    const read = await http.get("users/me/points", { token: c.token });
    for (const [op, res] of [[grantOp, granted], [view, read]] as const) {
      const schema = op.responses[String(res.status)].content["application/json"].schema;
      const validate = ajv.compile({ ...(closed(schema) as object), components: closed(doc.components) });
      expect(validate(res.body) || ajv.errorsText(validate.errors)).toBe(true);
    }
  });
});
