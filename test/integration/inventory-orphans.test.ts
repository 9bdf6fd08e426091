/**
 * Orphaned reservations: stock reserved for an order number whose order was never written (the
 * checkout's compensation was lost) is released once the grace period has passed, by whichever
 * inventory node gets there first — exactly once — and counted in
 * mall_inventory_orphans_released_total. A real order's reservation is left alone.
 */
import { ServiceBroker } from "moleculer";
import { InventoryActions, Reservation, ReserveParams, StockLevel, StockMovement } from "../../services/inventory/inventory.contracts";
import { newOrderNo } from "../../services/orders/domain/order-no";
import { newBuyer, placeOrder, stockedProduct } from "../helpers/checkout";
import { nodeMetrics, sample } from "../helpers/metrics";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";

jest.setTimeout(90_000);

/** reservations keep whole seconds, so an orphan may look up to 1 s older than it is */
const GRACE_MS = 3000;
const METRIC = "mall_inventory_orphans_released_total";

describe.each([
  { shape: "embedded" as const, nodes: undefined },
  // two inventory nodes reconcile the same database
  { shape: "cluster" as const, nodes: [["api", "users", "catalog", "orders", "inventory"], ["inventory"]] },
])("orphaned reservations ($shape)", ({ shape, nodes }) => {
  let shop: Shop;
  let admin: string;
  let inventoryNodes: ServiceBroker[];

  beforeAll(async () => {
    shop = await startShop({ shape, nodes, env: { RESERVATION_ORPHAN_GRACE_MS: String(GRACE_MS), RESERVATION_RECONCILE_INTERVAL_MS: "300" } });
    admin = await loginAdmin(shop);
    inventoryNodes = shop.brokers.filter((b) => b.getLocalService("inventory"));
  });
  afterAll(() => shop?.stop());

  const level = async (skuId: number) => (await client(shop).get<{ data: StockLevel }>(`inventory/${skuId}`, { token: admin })).body.data;
  const movements = async (skuId: number) =>
    (await client(shop).get<{ data: { items: StockMovement[] } }>(`inventory/${skuId}/movements?pageSize=100`, { token: admin })).body.data.items;
  const releasedTotal = async () => (await Promise.all(inventoryNodes.map(nodeMetrics))).reduce((n, text) => n + sample(text, METRIC), 0);

  it("releases stock reserved for an order that never got written, once, and leaves a real order's reservation alone", async () => {
    const [item] = await stockedProduct(shop, admin, [{ price: 1200, stock: 20 }]);
    const buyer = await newBuyer(shop);
    const before = await releasedTotal();
    const order = await placeOrder(client(shop), buyer, [{ skuId: item.skuId, quantity: 2 }]);
    // what a checkout leaves when its order write and its compensation both failed
    const orphans = Array.from({ length: 4 }, () => newOrderNo());
    for (const reference of orphans) {
      await shop.brokers[0].call<Reservation, ReserveParams>(InventoryActions.RESERVE, { reference, lines: [{ skuId: item.skuId, quantity: 3 }] });
    }
    expect(await level(item.skuId)).toMatchObject({ onHand: 20, reserved: 14, available: 6 });

    // every inventory node passes over and over, several passes at once, besides its timer
    await waitFor(
      async () => {
        await Promise.all(inventoryNodes.flatMap((b) => [1, 2, 3].map(() => b.call("inventory.releaseOrphans", {}, { nodeID: b.nodeID }))));
        return (await level(item.skuId)).reserved === 2;
      },
      { timeout: 20_000, interval: 100, what: "orphans released" },
    );

    expect(await level(item.skuId)).toMatchObject({ onHand: 20, reserved: 2, available: 18 });
    const moves = await movements(item.skuId);
    for (const reference of orphans) {
      expect(moves.filter((m) => m.reference === reference && m.type === "release")).toHaveLength(1);
    }
    expect(moves.filter((m) => m.reference === order.orderNo).map((m) => m.type)).toEqual(["reserve"]);
    const theOrder = await client(shop).get(`orders/${order.orderNo}`, { token: buyer.token });
    expect(theOrder.body.data.status).toBe("PENDING_PAYMENT");
    expect((await releasedTotal()) - before).toBe(orphans.length);
    // later passes find nothing more to do
    await Promise.all(inventoryNodes.map((b) => b.call("inventory.releaseOrphans", {}, { nodeID: b.nodeID })));
    expect((await releasedTotal()) - before).toBe(orphans.length);
  });
});
