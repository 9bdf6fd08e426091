/**
 * Flash sales end to end through the gateway, in both shapes (Redis + JetStream in the cluster,
 * the memory store + in-process delivery embedded): the stampede, bad input, the figures.
 */
import { Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";
import { buyers, ok, publishSale, purchase, settle, stampede } from "../helpers/seckill";

jest.setTimeout(300_000);

describe.each(["embedded", "cluster"] as const)("seckill (%s)", (shape) => {
  let shop: Shop;
  let admin: string;
  const http = () => client(shop);

  beforeAll(async () => {
    shop = await startShop({ shape });
    admin = await loginAdmin(shop);
  });
  afterAll(async () => {
    await shop?.stop();
  });

  it("1,000 purchases from 500 buyers at once for 50 units: exactly 50 orders at the sale price, nobody over the limit, stock and figures agree", async () => {
    const { sku, sale } = await publishSale(shop, admin, { quantity: 50, perUserLimit: 1, price: 1990, stock: 80 });
    const stockAfterPublish = ok(await http().get(`inventory/${sku.skuId}`, { token: admin }), "stock");
    expect(stockAfterPublish).toMatchObject({ onHand: 80, reserved: 50, available: 30 });

    const crowd = await buyers(shop, 500);
    const attempts = crowd.flatMap((b) => [b, b]);
    const answers = await stampede(shop, sale.id, attempts);
    const statuses = answers.map((a) => a.status);
    const accepted = answers.map((a) => ({ a, buyer: a.buyer })).filter((x) => x.a.status === 202);
    expect(accepted).toHaveLength(50);
    for (const a of answers.filter((x) => x.status !== 202)) {
      expect(a.status).toBe(409);
      expect(["SECKILL_SOLD_OUT", "SECKILL_LIMIT_REACHED"]).toContain(a.body.type);
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(50);
    // no buyer twice
    expect(new Set(accepted.map((x) => x.buyer.id)).size).toBe(50);

    const results = await settle(
      http(),
      accepted.map((x) => ({ ticket: x.a.body.data.ticket as string, buyer: x.buyer })),
    );
    expect(results.every((r) => r.status === "SUCCEEDED" && typeof r.orderNo === "string")).toBe(true);
    expect(new Set(results.map((r) => r.orderNo)).size).toBe(50);

    // every order is the buyer's own, at the sale price, one unit
    for (const [i, r] of results.entries()) {
      const o = ok(await http().get(`orders/${r.orderNo}`, { token: accepted[i].buyer.token }), "order");
      expect(o).toMatchObject({ status: "PENDING_PAYMENT", source: "SECKILL", itemsTotal: 1990, discount: 0 });
      expect(o.items).toEqual([expect.objectContaining({ skuId: sku.skuId, quantity: 1, unitPrice: 1990 })]);
    }
    const figures = ok(await http().get(`admin/seckill/events/${sale.id}`, { token: admin }), "figures");
    expect(figures.figures).toMatchObject({ accepted: 50, ordered: 50, paid: 0, expired: 0, failed: 0, remaining: 0 });
    // the orders took no stock of their own: the 50 units still sit in the sale's hold
    expect(ok(await http().get(`inventory/${sku.skuId}`, { token: admin }), "stock")).toMatchObject({ onHand: 80, reserved: 50, available: 30 });
    const pub = ok(await http().get(`seckill/events/${sale.id}`), "public");
    expect(pub).toMatchObject({ remaining: 0, status: "active", price: 1990 });
  });

  it("bad input: the envelope, and nothing taken", async () => {
    const { sale } = await publishSale(shop, admin, { quantity: 5, perUserLimit: 2 });
    const [a, b] = await buyers(shop, 2);
    // another user's address
    const theirs = await http().post(`seckill/events/${sale.id}/purchase`, { addressId: b.addressId }, { token: a.token });
    expect(theirs.status).toBe(404);
    expect(theirs.body.type).toBe("ADDRESS_NOT_FOUND");
    // above the per-user limit
    const many = await purchase(http(), a, sale.id, 3);
    expect(many.status).toBe(422);
    // unknown sale
    const unknown = await purchase(http(), a, 999_999);
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe("SECKILL_EVENT_NOT_FOUND");
    // not signed in
    expect((await http().post(`seckill/events/${sale.id}/purchase`, { addressId: a.addressId })).status).toBe(401);
    expect(ok(await http().get(`seckill/events/${sale.id}`), "sale").remaining).toBe(5);
    // two within the limit, then the limit
    expect((await purchase(http(), a, sale.id, 2)).status).toBe(202);
    const over = await purchase(http(), a, sale.id);
    expect(over.status).toBe(409);
    expect(over.body.type).toBe("SECKILL_LIMIT_REACHED");
    // someone else's ticket is not found
    const mine = await purchase(http(), b, sale.id);
    const t = mine.body.data.ticket;
    expect((await http().get(`seckill/tickets/${t}`, { token: a.token })).status).toBe(404);
    expect((await http().get(`seckill/tickets/not-a-ticket`, { token: a.token })).status).toBe(404);
  });

  it("not active before the window and after it", async () => {
    const soon = await publishSale(shop, admin, { quantity: 3, startAt: new Date(Date.now() + 60_000), endAt: new Date(Date.now() + 120_000) });
    const [a] = await buyers(shop, 1);
    const early = await purchase(http(), a, soon.sale.id);
    expect(early.status).toBe(409);
    expect(early.body.type).toBe("SECKILL_NOT_ACTIVE");
    expect(ok(await http().get(`seckill/events?status=upcoming`), "list").items.map((e: any) => e.id)).toContain(soon.sale.id);
    const brief = await publishSale(shop, admin, { quantity: 3, endAt: new Date(Date.now() + 1500) });
    await waitFor(() => Date.now() > Date.parse(brief.sale.endAt) + 50);
    const late = await purchase(http(), a, brief.sale.id);
    expect(late.status).toBe(409);
    expect(late.body.type).toBe("SECKILL_NOT_ACTIVE");
  });

  it("admin: warns on a price at or above the SKU's, refuses quantity 0, end before start, an overlapping sale and missing stock; cancels an upcoming sale with its units back", async () => {
    const first = await publishSale(shop, admin, { quantity: 4, price: 20_000, skuPrice: 9900, stock: 10, startAt: new Date(Date.now() + 60_000), endAt: new Date(Date.now() + 120_000) });
    expect(first.sale.warnings.join(" ")).toMatch(/not below/);
    const body = (over: Record<string, unknown>) => ({
      skuId: first.sku.skuId,
      title: "x",
      price: 100,
      quantity: 2,
      perUserLimit: 1,
      startAt: new Date(Date.now() + 200_000).toISOString(),
      endAt: new Date(Date.now() + 300_000).toISOString(),
      ...over,
    });
    expect((await http().post("admin/seckill/events", body({ quantity: 0 }), { token: admin })).status).toBe(422);
    expect((await http().post("admin/seckill/events", body({ endAt: new Date(Date.now() + 100_000).toISOString() }), { token: admin })).status).toBe(422);
    const overlap = await http().post("admin/seckill/events", body({ startAt: new Date(Date.now() + 90_000).toISOString() }), { token: admin });
    expect(overlap.status).toBe(409);
    expect(overlap.body.type).toBe("SECKILL_OVERLAP");
    const short = await http().post("admin/seckill/events", body({ quantity: 7 }), { token: admin });
    expect(short.status).toBe(409);
    expect(short.body.type).toBe("SECKILL_STOCK_SHORT");
    expect(ok(await http().get(`inventory/${first.sku.skuId}`, { token: admin }), "stock")).toMatchObject({ onHand: 10, reserved: 4 });
    const c = await newCustomer(shop);
    expect((await http().post("admin/seckill/events", body({}), { token: c.token })).status).toBe(403);

    const cancelled = ok(await http().post(`admin/seckill/events/${first.sale.id}/cancel`, {}, { token: admin }), "cancel");
    expect(cancelled.status).toBe("cancelled");
    expect(ok(await http().get(`inventory/${first.sku.skuId}`, { token: admin }), "stock")).toMatchObject({ onHand: 10, reserved: 0 });
    // once only: a second cancel changes nothing
    ok(await http().post(`admin/seckill/events/${first.sale.id}/cancel`, {}, { token: admin }), "cancel again");
    expect(ok(await http().get(`inventory/${first.sku.skuId}`, { token: admin }), "stock")).toMatchObject({ onHand: 10, reserved: 0 });
    const active = await publishSale(shop, admin, { quantity: 1 });
    const no = await http().post(`admin/seckill/events/${active.sale.id}/cancel`, {}, { token: admin });
    expect(no.status).toBe(409);
    expect(no.body.type).toBe("SECKILL_STATE_CONFLICT");
  });
});
