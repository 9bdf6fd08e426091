/**
 * Coupons through the gateway and the internal actions checkout uses, in both shapes (the
 * cluster runs two marketing nodes on MariaDB): admin validation changes nothing, quotas hold
 * under concurrency (100 claims for 10 coupons → 10; 20 claims by one user with a limit of 2 → 2),
 * one coupon locked by 10 orders at once → one wins, lock/release are idempotent, order.paid and
 * order.cancelled move the coupon once however often they are delivered, EXPIRED is computed on
 * read, and a template with claimed coupons can be disabled but not deleted.
 */
import crypto from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import { Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded", nodes: [["api", "users", "marketing"]] }],
  ["cluster", { shape: "cluster", nodes: [["api", "users"], ["marketing"], ["marketing"]] }],
];

type Marketing = {
  sequelize: Sequelize;
  tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T>;
  outbox(t: Transaction, channel: string, data: unknown): Promise<{ eventId: string }>;
  emitLocalChannelHandler(channel: string, payload: unknown): Promise<void>;
};

const at = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
const HOUR = 3_600_000;

describe.each(shapes)("coupons (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;
  let marketing: Marketing;
  let gateway: ServiceBroker;

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
    marketing = shop.brokerFor("marketing").getLocalService("marketing") as unknown as Marketing;
    gateway = shop.brokerFor("api");
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
  });

  const count = async (sql: string, replacements: unknown[] = []) =>
    Number((await marketing.sequelize.query<{ n: number }>(sql, { replacements, type: QueryTypes.SELECT }))[0].n);

  const terms = (over: Record<string, unknown> = {}) => ({
    name: `Coupon ${crypto.randomBytes(3).toString("hex")}`,
    type: "FIXED",
    value: 500,
    threshold: 5000,
    totalQuantity: 10,
    perUserLimit: 1,
    validFrom: at(-HOUR),
    validTo: at(HOUR),
    ...over,
  });
  async function template(over: Record<string, unknown> = {}) {
    const r = await http.post("admin/coupon-templates", terms(over), { token: admin });
    expect(r.status).toBe(201);
    return r.body.data as { id: number; claimed: number; remaining: number };
  }
  const claim = (templateId: number, token: string) => http.post(`coupon-templates/${templateId}/claim`, undefined, { token });
  async function claimed(templateId: number, token: string) {
    const r = await claim(templateId, token);
    expect(r.status).toBe(201);
    return r.body.data as { id: number; status: string };
  }
  const mine = async (token: string, status?: string) =>
    (await http.get(`users/me/coupons${status ? `?status=${status}` : ""}`, { token })).body.data.items as { id: number; status: string; orderNo: string | null }[];
  const statusOf = async (token: string, couponId: number) => (await mine(token)).find((c) => c.id === couponId)?.status;
  const templatesTotal = async () => (await http.get("admin/coupon-templates?pageSize=1", { token: admin })).body.data.total as number;
  const orderNo = () => `T${crypto.randomBytes(8).toString("hex").toUpperCase()}`;
  const lock = (userId: number, couponId: number, no: string) => gateway.call("marketing.lockCoupon", { userId, couponId, orderNo: no });
  const release = (no: string) => gateway.call("marketing.releaseCoupon", { orderNo: no, reason: "test" }) as Promise<{ released: number }>;
  const offers = (params: Record<string, unknown>) => gateway.call("marketing.offers", { productIds: [], categoryIds: [], ...params }) as Promise<any>;
  const typeOf = (p: Promise<unknown>) => p.then(() => "ok", (err: { type?: string }) => err.type);

  const envelope = (channel: string, data: unknown) => ({ eventId: crypto.randomUUID(), type: channel, occurredAt: new Date().toISOString(), producer: "test", data });
  const paid = (no: string, userId: number, couponId: number | null) => ({
    orderNo: no, userId, paymentNo: `P${no}`, amount: 4500, items: [], source: "NORMAL", payable: 4500, holds: { couponId, points: 0 },
  });
  const cancelled = (no: string, userId: number, couponId: number | null) => ({ orderNo: no, userId, reason: "expired", source: "NORMAL", items: [], holds: { couponId, points: 0 } });
  /** through the real path: an outbox row, relayed in-process (embedded) or over JetStream (cluster) */
  const publish = (channel: string, data: unknown) => marketing.tx((t) => marketing.outbox(t, channel, data));

  describe("admin", () => {
    it.each([
      ["a PERCENT value over 100 %", { type: "PERCENT", value: 10_001, threshold: 0 }, 422, "COUPON_TERMS_INVALID"],
      ["a negative value", { value: -500 }, 422, "VALIDATION_ERROR"],
      ["a negative threshold", { threshold: -1 }, 422, "VALIDATION_ERROR"],
      ["validTo before validFrom", { validFrom: at(HOUR), validTo: at(-HOUR) }, 422, "OFFER_WINDOW_INVALID"],
      ["a threshold below the discount", { value: 3000, threshold: 2000 }, 422, "COUPON_TERMS_INVALID"],
      ["no quantity", { totalQuantity: 0 }, 422, "VALIDATION_ERROR"],
    ])("refuses %s and creates nothing", async (_what, over, status, type) => {
      const before = await templatesTotal();
      const r = await http.post("admin/coupon-templates", terms(over), { token: admin });
      expect(r.status).toBe(status);
      expect(r.body.type).toBe(type);
      expect(await templatesTotal()).toBe(before);
    });

    it("is for operators and admins only", async () => {
      const c = await newCustomer(shop, "cp");
      expect((await http.post("admin/coupon-templates", terms(), { token: c.token })).status).toBe(403);
      expect((await http.get("admin/coupon-templates", { token: c.token })).status).toBe(403);
    });

    it("a bad edit changes nothing; the total cannot drop below what was claimed", async () => {
      const t = await template({ totalQuantity: 5, perUserLimit: 5 });
      const c = await newCustomer(shop, "cp");
      await claimed(t.id, c.token);
      await claimed(t.id, c.token);
      const bad = await http.patch(`admin/coupon-templates/${t.id}`, { type: "PERCENT", value: 20_000 }, { token: admin });
      expect([bad.status, bad.body.type]).toEqual([422, "COUPON_TERMS_INVALID"]);
      const below = await http.patch(`admin/coupon-templates/${t.id}`, { totalQuantity: 1 }, { token: admin });
      expect([below.status, below.body.type]).toEqual([409, "COUPON_QUANTITY_BELOW_CLAIMED"]);
      const list = (await http.get("admin/coupon-templates?pageSize=100", { token: admin })).body.data.items;
      expect(list.find((x: { id: number }) => x.id === t.id)).toMatchObject({ type: "FIXED", value: 500, totalQuantity: 5, claimed: 2, remaining: 3 });
      const ok = await http.patch(`admin/coupon-templates/${t.id}`, { totalQuantity: 2, name: "Renamed" }, { token: admin });
      expect(ok.status).toBe(200);
      expect(ok.body.data).toMatchObject({ name: "Renamed", totalQuantity: 2, remaining: 0 });
    });

    it("a template with claimed coupons can be disabled, not deleted; an unclaimed one is deleted", async () => {
      const used = await template();
      const c = await newCustomer(shop, "cp");
      const coupon = await claimed(used.id, c.token);
      const del = await http.del(`admin/coupon-templates/${used.id}`, { token: admin });
      expect([del.status, del.body.type]).toEqual([409, "COUPON_TEMPLATE_IN_USE"]);
      const off = await http.patch(`admin/coupon-templates/${used.id}`, { enabled: false }, { token: admin });
      expect([off.status, off.body.data.enabled]).toEqual([200, false]);
      // no more claims, not listed; the coupon already claimed still works
      const other = await newCustomer(shop, "cp");
      const refused = await claim(used.id, other.token);
      expect([refused.status, refused.body.type]).toEqual([409, "COUPON_NOT_CLAIMABLE"]);
      const listed = (await http.get("coupon-templates?pageSize=100")).body.data.items.map((x: { id: number }) => x.id);
      expect(listed).not.toContain(used.id);
      expect((await offers({ userId: c.id, couponId: coupon.id })).coupon).toMatchObject({ id: coupon.id, templateId: used.id });

      const spare = await template();
      expect((await http.del(`admin/coupon-templates/${spare.id}`, { token: admin })).status).toBe(200);
      const again = await http.del(`admin/coupon-templates/${spare.id}`, { token: admin });
      expect([again.status, again.body.type]).toEqual([404, "COUPON_TEMPLATE_NOT_FOUND"]);
    });
  });

  describe("claims", () => {
    it("100 concurrent claims against a quantity of 10 give exactly 10 coupons", async () => {
      const t = await template({ totalQuantity: 10, perUserLimit: 5 });
      const buyers = await Promise.all(Array.from({ length: 20 }, () => newCustomer(shop, "cq")));
      const answers = await Promise.all(buyers.flatMap((b) => Array.from({ length: 5 }, () => claim(t.id, b.token))));
      expect(answers.map((r) => r.status).filter((st) => st === 201)).toHaveLength(10);
      expect(answers.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.body.type}`)).toEqual(Array(90).fill("409 COUPON_SOLD_OUT"));
      expect(await count("SELECT COUNT(*) AS n FROM user_coupons WHERE template_id = ?", [t.id])).toBe(10);
      expect(await count("SELECT claimed AS n FROM coupon_templates WHERE id = ?", [t.id])).toBe(10);
      expect(await count("SELECT COALESCE(SUM(claimed), 0) AS n FROM coupon_claims WHERE template_id = ?", [t.id])).toBe(10);
      const listed = (await http.get("coupon-templates?pageSize=100")).body.data.items.map((x: { id: number }) => x.id);
      expect(listed).not.toContain(t.id);
    });

    it("one user firing 20 claims against a per-user limit of 2 gets exactly 2", async () => {
      const t = await template({ totalQuantity: 100, perUserLimit: 2 });
      const c = await newCustomer(shop, "cl");
      const answers = await Promise.all(Array.from({ length: 20 }, () => claim(t.id, c.token)));
      expect(answers.map((r) => r.status).filter((st) => st === 201)).toHaveLength(2);
      expect(answers.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.body.type}`)).toEqual(Array(18).fill("409 COUPON_LIMIT_REACHED"));
      expect(await count("SELECT COUNT(*) AS n FROM user_coupons WHERE template_id = ? AND user_id = ?", [t.id, c.id])).toBe(2);
      // the refused claims took nothing from the total
      expect(await count("SELECT claimed AS n FROM coupon_templates WHERE id = ?", [t.id])).toBe(2);
      const listed = (await http.get("coupon-templates?pageSize=100")).body.data.items.find((x: { id: number }) => x.id === t.id);
      expect(listed.remaining).toBe(98);
    });

    it("a claim answers the user coupon; lists filter by status", async () => {
      const t = await template({ type: "PERCENT", value: 1500, threshold: 0, scope: { productIds: [7, 3, 7] } });
      const c = await newCustomer(shop, "cm");
      const r = await claim(t.id, c.token);
      expect(r.status).toBe(201);
      expect(r.body.data).toMatchObject({ templateId: t.id, type: "PERCENT", value: 1500, threshold: 0, status: "UNUSED", orderNo: null, scope: { productIds: [3, 7], categoryIds: [] } });
      expect((await mine(c.token, "UNUSED")).map((x) => x.id)).toEqual([r.body.data.id]);
      expect(await mine(c.token, "USED")).toEqual([]);
      const unknown = await claim(999_999_999, c.token);
      expect([unknown.status, unknown.body.type]).toEqual([404, "COUPON_TEMPLATE_NOT_FOUND"]);
      const later = await template({ validFrom: at(HOUR), validTo: at(2 * HOUR) });
      const early = await claim(later.id, c.token);
      expect([early.status, early.body.type]).toEqual([409, "COUPON_NOT_CLAIMABLE"]);
      expect((await http.post(`coupon-templates/${t.id}/claim`)).status).toBe(401);
    });

    it("an unused coupon past its validTo shows as EXPIRED and cannot be used", async () => {
      const t = await template();
      const c = await newCustomer(shop, "ce");
      const coupon = await claimed(t.id, c.token);
      // time passing, without waiting for it
      await marketing.sequelize.query("UPDATE user_coupons SET valid_to = ? WHERE id = ?", { replacements: [new Date(Date.now() - 60_000), coupon.id] });
      expect((await mine(c.token, "EXPIRED")).map((x) => x.id)).toEqual([coupon.id]);
      expect(await mine(c.token, "UNUSED")).toEqual([]);
      expect(await typeOf(lock(c.id, coupon.id, orderNo()))).toBe("COUPON_EXPIRED");
      expect(await typeOf(offers({ userId: c.id, couponId: coupon.id }))).toBe("COUPON_EXPIRED");
    });
  });

  describe("holds", () => {
    it("one coupon locked by 10 orders at once: exactly one wins", async () => {
      const t = await template();
      const c = await newCustomer(shop, "ch");
      const coupon = await claimed(t.id, c.token);
      const orders = Array.from({ length: 10 }, orderNo);
      const results = await Promise.allSettled(orders.map((no) => lock(c.id, coupon.id, no)));
      const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [orders[i]] : []));
      expect(won).toHaveLength(1);
      expect(results.filter((r) => r.status === "rejected").map((r) => ((r as PromiseRejectedResult).reason as { type: string }).type)).toEqual(
        Array(9).fill("COUPON_NOT_APPLICABLE"),
      );
      expect(await mine(c.token, "LOCKED")).toEqual([expect.objectContaining({ id: coupon.id, orderNo: won[0] })]);
    });

    it("lock and release are idempotent per order; someone else's coupon is not found", async () => {
      const t = await template();
      const c = await newCustomer(shop, "ci");
      const coupon = await claimed(t.id, c.token);
      const [a, b] = [orderNo(), orderNo()];
      expect(await lock(c.id, coupon.id, a)).toEqual({ couponId: coupon.id, orderNo: a, status: "LOCKED" });
      expect(await lock(c.id, coupon.id, a)).toEqual({ couponId: coupon.id, orderNo: a, status: "LOCKED" });
      expect(await typeOf(lock(c.id, coupon.id, b))).toBe("COUPON_NOT_APPLICABLE");
      expect(await typeOf(offers({ userId: c.id, couponId: coupon.id }))).toBe("COUPON_NOT_APPLICABLE");
      // the order holding it may price itself again (a retried checkout)
      expect((await offers({ userId: c.id, couponId: coupon.id, orderNo: a })).coupon.id).toBe(coupon.id);

      const stranger = await newCustomer(shop, "ci");
      expect(await typeOf(lock(stranger.id, coupon.id, orderNo()))).toBe("COUPON_NOT_FOUND");
      expect(await typeOf(offers({ userId: stranger.id, couponId: coupon.id }))).toBe("COUPON_NOT_FOUND");
      expect(await typeOf(lock(c.id, 999_999_999, orderNo()))).toBe("COUPON_NOT_FOUND");

      expect(await release(b)).toEqual({ released: 0 });
      expect(await statusOf(c.token, coupon.id)).toBe("LOCKED");
      expect(await release(a)).toEqual({ released: 1 });
      expect(await release(a)).toEqual({ released: 0 });
      expect(await release(orderNo())).toEqual({ released: 0 });
      expect(await statusOf(c.token, coupon.id)).toBe("UNUSED");
      expect(await lock(c.id, coupon.id, b)).toMatchObject({ status: "LOCKED" });
    });

    it("order.paid through the outbox makes the coupon USED, once; the order that used it holds it still", async () => {
      const t = await template();
      const c = await newCustomer(shop, "cu");
      const coupon = await claimed(t.id, c.token);
      const no = orderNo();
      await lock(c.id, coupon.id, no);
      await publish("order.paid", paid(no, c.id, coupon.id));
      await waitFor(async () => (await statusOf(c.token, coupon.id)) === "USED", { what: "coupon USED" });
      expect((await mine(c.token, "USED"))[0]).toMatchObject({ id: coupon.id, orderNo: no });
      expect(await lock(c.id, coupon.id, no)).toMatchObject({ status: "USED" });
      expect(await typeOf(lock(c.id, coupon.id, orderNo()))).toBe("COUPON_NOT_APPLICABLE");
      // a late cancellation of that order (it cannot happen; if it did) gives nothing back
      await marketing.emitLocalChannelHandler("order.cancelled", envelope("order.cancelled", cancelled(no, c.id, coupon.id)));
      expect(await statusOf(c.token, coupon.id)).toBe("USED");
    });

    it("order.cancelled through the outbox gives the coupon back; a redelivery does not release a later lock", async () => {
      const t = await template();
      const c = await newCustomer(shop, "cc");
      const coupon = await claimed(t.id, c.token);
      const no = orderNo();
      await lock(c.id, coupon.id, no);
      await publish("order.cancelled", cancelled(no, c.id, coupon.id));
      await waitFor(async () => (await statusOf(c.token, coupon.id)) === "UNUSED", { what: "coupon UNUSED" });

      const next = orderNo();
      await lock(c.id, coupon.id, next);
      const event = envelope("order.cancelled", cancelled(next, c.id, coupon.id));
      await marketing.emitLocalChannelHandler("order.cancelled", event);
      expect(await statusOf(c.token, coupon.id)).toBe("UNUSED");
      await lock(c.id, coupon.id, next);
      // the same event again (at-least-once delivery): already applied, so the new hold stays
      await marketing.emitLocalChannelHandler("order.cancelled", event);
      expect(await statusOf(c.token, coupon.id)).toBe("LOCKED");
      expect(await count("SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'marketing-coupons' AND event_id = ?", [event.eventId])).toBe(1);
    });

    it("orders without a coupon and malformed messages are acknowledged and change nothing", async () => {
      const before = await count("SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'marketing-coupons'");
      await marketing.emitLocalChannelHandler("order.paid", envelope("order.paid", paid(orderNo(), 1, null)));
      await marketing.emitLocalChannelHandler("order.cancelled", { type: "order.cancelled", data: null });
      expect(await count("SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'marketing-coupons'")).toBe(before);
    });
  });
});
