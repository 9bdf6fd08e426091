/**
 * Promotions in both shapes (the cluster runs two marketing nodes sharing the Redis cache):
 * admin validation changes nothing, `GET /promotions` shows what runs now and is cleared by
 * every write (whichever node serves the next read), and `marketing.offers` gives checkout the
 * running promotions whose scope touches its goods.
 */
import crypto from "node:crypto";
import { Shop, client, loginAdmin, newCustomer, startShop } from "../helpers/shop";

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded", nodes: [["api", "users", "marketing"]] }],
  ["cluster", { shape: "cluster", nodes: [["api", "users"], ["marketing"], ["marketing"]] }],
];

const at = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
const HOUR = 3_600_000;

describe.each(shapes)("promotions (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;
  let admin: string;

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
    admin = await loginAdmin(shop);
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
  });

  const terms = (over: Record<string, unknown> = {}) => ({
    name: `Promo ${crypto.randomBytes(3).toString("hex")}`,
    type: "FULL_REDUCTION",
    rules: [
      { threshold: 10_000, off: 1_000 },
      { threshold: 20_000, off: 3_000 },
    ],
    startAt: at(-HOUR),
    endAt: at(HOUR),
    ...over,
  });
  async function promotion(over: Record<string, unknown> = {}) {
    const r = await http.post("admin/promotions", terms(over), { token: admin });
    expect(r.status).toBe(201);
    return r.body.data as { id: number; enabled: boolean };
  }
  const total = async () => (await http.get("admin/promotions?pageSize=1", { token: admin })).body.data.total as number;
  const running = async () => ((await http.get("promotions")).body.data as { id: number }[]).map((p) => p.id);
  const offers = (productIds: number[], categoryIds: number[]) =>
    shop.brokerFor("api").call("marketing.offers", { userId: 1, productIds, categoryIds }) as Promise<{ promotions: { id: number }[]; coupon: null; pointsBalance: number }>;

  it.each([
    ["an off not below its threshold", { rules: [{ threshold: 1_000, off: 1_000 }] }, 422, "PROMOTION_RULES_INVALID"],
    ["thresholds out of order", { rules: [{ threshold: 20_000, off: 3_000 }, { threshold: 10_000, off: 1_000 }] }, 422, "PROMOTION_RULES_INVALID"],
    ["a higher tier worth less", { rules: [{ threshold: 10_000, off: 3_000 }, { threshold: 20_000, off: 1_000 }] }, 422, "PROMOTION_RULES_INVALID"],
    ["a DISCOUNT tier with an off", { type: "DISCOUNT", rules: [{ threshold: 0, off: 100 }] }, 422, "PROMOTION_RULES_INVALID"],
    ["a rate of 100 %", { type: "DISCOUNT", rules: [{ threshold: 0, rateBp: 10_000 }] }, 422, "VALIDATION_ERROR"],
    ["a negative threshold", { rules: [{ threshold: -100, off: 10 }] }, 422, "VALIDATION_ERROR"],
    ["no tiers", { rules: [] }, 422, "VALIDATION_ERROR"],
    ["endAt before startAt", { startAt: at(HOUR), endAt: at(-HOUR) }, 422, "OFFER_WINDOW_INVALID"],
  ])("refuses %s and creates nothing", async (_what, over, status, type) => {
    const before = await total();
    const r = await http.post("admin/promotions", terms(over), { token: admin });
    expect([r.status, r.body.type]).toEqual([status, type]);
    expect(await total()).toBe(before);
  });

  it("is for operators and admins only", async () => {
    const c = await newCustomer(shop, "pr");
    expect((await http.post("admin/promotions", terms(), { token: c.token })).status).toBe(403);
    expect((await http.get("admin/promotions", { token: c.token })).status).toBe(403);
  });

  it("GET /promotions shows what runs now, and every write shows at once", async () => {
    await running(); // warm the cache: the writes below must clear it
    const now = await promotion({ type: "DISCOUNT", rules: [{ threshold: 0, rateBp: 9_500 }, { threshold: 50_000, rateBp: 9_000 }] });
    const later = await promotion({ startAt: at(HOUR), endAt: at(2 * HOUR) });
    const off = await promotion({ enabled: false });
    let ids = await running();
    expect(ids).toContain(now.id);
    expect(ids).not.toContain(later.id);
    expect(ids).not.toContain(off.id);
    const shown = ((await http.get("promotions")).body.data as { id: number }[]).find((p) => p.id === now.id);
    expect(shown).toMatchObject({ type: "DISCOUNT", rules: [{ threshold: 0, rateBp: 9_500 }, { threshold: 50_000, rateBp: 9_000 }], scope: { categoryIds: [], productIds: [] } });

    expect((await http.patch(`admin/promotions/${off.id}`, { enabled: true }, { token: admin })).status).toBe(200);
    expect((await http.patch(`admin/promotions/${now.id}`, { enabled: false }, { token: admin })).status).toBe(200);
    ids = await running();
    expect(ids).toContain(off.id);
    expect(ids).not.toContain(now.id);

    // ended: a window wholly in the past
    expect((await http.patch(`admin/promotions/${off.id}`, { startAt: at(-2 * HOUR), endAt: at(-HOUR) }, { token: admin })).status).toBe(200);
    expect(await running()).not.toContain(off.id);

    const gone = await promotion();
    expect(await running()).toContain(gone.id);
    expect((await http.del(`admin/promotions/${gone.id}`, { token: admin })).status).toBe(200);
    expect(await running()).not.toContain(gone.id);
    const again = await http.del(`admin/promotions/${gone.id}`, { token: admin });
    expect([again.status, again.body.type]).toEqual([404, "PROMOTION_NOT_FOUND"]);
  });

  it("a bad edit changes nothing; changing the type needs tiers of that type", async () => {
    const p = await promotion();
    const bad = await http.patch(`admin/promotions/${p.id}`, { type: "DISCOUNT" }, { token: admin });
    expect([bad.status, bad.body.type]).toEqual([422, "PROMOTION_RULES_INVALID"]);
    const window = await http.patch(`admin/promotions/${p.id}`, { endAt: at(-2 * HOUR) }, { token: admin });
    expect([window.status, window.body.type]).toEqual([422, "OFFER_WINDOW_INVALID"]);
    const list = (await http.get("admin/promotions?pageSize=100", { token: admin })).body.data.items;
    expect(list.find((x: { id: number }) => x.id === p.id)).toMatchObject({ type: "FULL_REDUCTION", rules: terms().rules });
    const ok = await http.patch(`admin/promotions/${p.id}`, { type: "DISCOUNT", rules: [{ threshold: 0, rateBp: 8_800 }] }, { token: admin });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toMatchObject({ type: "DISCOUNT", rules: [{ threshold: 0, rateBp: 8_800 }] });
    const missing = await http.patch("admin/promotions/999999999", { name: "x" }, { token: admin });
    expect([missing.status, missing.body.type]).toEqual([404, "PROMOTION_NOT_FOUND"]);
  });

  it("offers: the running promotions whose scope touches the goods", async () => {
    const product = 900_000 + Math.floor(Math.random() * 50_000);
    const category = 950_000 + Math.floor(Math.random() * 50_000);
    const byProduct = await promotion({ scope: { productIds: [product] } });
    const byCategory = await promotion({ scope: { categoryIds: [category] } });
    const everything = await promotion();
    const ended = await promotion({ scope: { productIds: [product] }, startAt: at(-2 * HOUR), endAt: at(-HOUR) });
    const ids = async (p: number[], c: number[]) => (await offers(p, c)).promotions.map((x) => x.id);
    const forProduct = await ids([product], []);
    expect(forProduct).toEqual(expect.arrayContaining([byProduct.id, everything.id]));
    expect(forProduct).not.toContain(byCategory.id);
    expect(forProduct).not.toContain(ended.id);
    const forCategory = await ids([product + 1], [category]);
    expect(forCategory).toEqual(expect.arrayContaining([byCategory.id, everything.id]));
    expect(forCategory).not.toContain(byProduct.id);
    expect(await offers([product], [])).toMatchObject({ coupon: null, pointsBalance: 0 });
  });
});
