/**
 * Unpaid orders expire (ORDER_PAYMENT_TIMEOUT=1 s here). In the cluster two nodes run orders, each
 * with its own sweeper, and the test also fires extra sweeps on both nodes at once: every expired
 * order must be cancelled exactly once and its stock released exactly once.
 */
import type { Sequelize } from "sequelize";
import { QueryTypes } from "sequelize";
import { newBuyer, placeOrder, stockedProduct } from "../helpers/checkout";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

const env = { ORDER_PAYMENT_TIMEOUT: "1", ORDER_SWEEP_INTERVAL_MS: "200" };
const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded", env }],
  ["cluster, two orders nodes", { shape: "cluster", env, nodes: [["api"], ["users", "catalog", "cart"], ["inventory"], ["orders"], ["orders"]] }],
];

describe.each(shapes)("order expiry (%s)", (_name, opts) => {
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

  it("cancels each expired order once and releases its stock once, however many sweepers race", async () => {
    const [sku] = await stockedProduct(shop, admin, [{ price: 1500, stock: 20 }]);
    const buyers = await Promise.all([newBuyer(shop), newBuyer(shop)]);
    const orders = await Promise.all(Array.from({ length: 8 }, (_, i) => placeOrder(http, buyers[i % 2], [{ skuId: sku.skuId, quantity: 2 }])));
    expect(orders.every((o) => o.status === "PENDING_PAYMENT")).toBe(true);
    expect(new Date(orders[0].expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(1000);

    // extra sweeps on every orders node at the same moment, on top of their timers
    const nodes = shop.brokers.filter((b) => b.getLocalService("orders"));
    expect(nodes).toHaveLength(shop.shape === "cluster" ? 2 : 1);
    await waitFor(() => orders.every((o) => Date.parse(o.expiresAt) <= Date.now()), { what: "expiry time" });
    await Promise.all(nodes.flatMap((b) => [1, 2, 3].map(() => b.call("orders.sweepExpired", {}))));

    const token = (i: number) => buyers[i % 2].token;
    await waitFor(
      async () => {
        const all = await Promise.all(orders.map((o, i) => http.get(`orders/${o.orderNo}`, { token: token(i) })));
        return all.every((r) => r.body.data.status === "CANCELLED");
      },
      { what: "all orders cancelled" },
    );
    const level = await waitFor(
      async () => {
        const s = (await http.get(`inventory/${sku.skuId}`, { token: admin })).body.data;
        return s.reserved === 0 ? s : null;
      },
      { what: "stock released" },
    );
    expect(level).toMatchObject({ onHand: 20, reserved: 0, available: 20 });

    const moves = (await http.get(`inventory/${sku.skuId}/movements?pageSize=100`, { token: admin })).body.data.items as { type: string; reference: string }[];
    for (const o of orders) {
      expect(moves.filter((m) => m.reference === o.orderNo).map((m) => m.type).sort()).toEqual(["release", "reserve"]);
    }
    for (const [i, o] of orders.entries()) {
      const d = (await http.get(`orders/${o.orderNo}`, { token: token(i) })).body.data;
      expect(d).toMatchObject({ status: "CANCELLED", cancelReason: "payment timeout" });
      expect(d.timeline.filter((e: { status: string }) => e.status === "CANCELLED")).toEqual([
        expect.objectContaining({ from: "PENDING_PAYMENT", actor: "system:expiry", note: "payment timeout" }),
      ]);
    }
    const db = (nodes[0].getLocalService("orders") as unknown as { sequelize: Sequelize }).sequelize;
    const nos = orders.map((o) => o.orderNo);
    const rows = await db.query<{ payload: string }>(`SELECT payload FROM outbox WHERE channel = 'order.cancelled'`, { type: QueryTypes.SELECT });
    const cancelled = rows.map((r) => JSON.parse(r.payload).data).filter((d: { orderNo: string }) => nos.includes(d.orderNo));
    expect(cancelled.map((d: { orderNo: string }) => d.orderNo).sort()).toEqual([...nos].sort());
    expect(cancelled.every((d: { reason: string; userId: number }) => d.reason === "payment timeout" && buyers.some((b) => b.id === d.userId))).toBe(true);
    const unreleased = await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM orders WHERE status = 'CANCELLED' AND stock_released_at IS NULL`, { type: QueryTypes.SELECT });
    expect(Number(unreleased[0].n)).toBe(0);

    // a late buyer cancel is a clean conflict
    const late = await http.post(`orders/${orders[0].orderNo}/cancel`, {}, { token: token(0) });
    expect([late.status, late.body.type]).toEqual([409, "ORDER_STATE_CONFLICT"]);
  }, 90_000);
});
