/**
 * Inventory's consumer of order.paid over NATS JetStream: it commits the reservation once, and a
 * payment event arriving after the order's stock was already released (a refund approved before
 * inventory saw the payment) is settled, not retried into the dead-letter stream.
 */
import crypto from "node:crypto";
import { QueryTypes, Sequelize } from "sequelize";
import { Shop, startShop, waitFor } from "../helpers/shop";

describe("inventory consumes order.paid (cluster)", () => {
  let shop: Shop;
  let db: Sequelize;
  beforeAll(async () => {
    shop = await startShop({ shape: "cluster", nodes: [["api", "users"], ["inventory"]] });
    db = (shop.brokerFor("inventory").getLocalService("inventory") as unknown as { sequelize: Sequelize }).sequelize;
  });
  afterAll(() => shop?.stop());

  const processed = async (eventId: string) =>
    (await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'inventory' AND event_id = ?", { replacements: [eventId], type: QueryTypes.SELECT }))[0].n;

  async function paid(orderNo: string) {
    const eventId = crypto.randomUUID();
    const gw = shop.brokerFor("api") as unknown as { sendToChannel(c: string, p: unknown, o?: unknown): Promise<void> };
    await gw.sendToChannel("order.paid", { eventId, type: "order.paid", occurredAt: new Date().toISOString(), producer: "test", data: { orderNo } }, { msgID: eventId });
    return eventId;
  }

  it("commits the reservation once, however often the event is delivered", async () => {
    const inv = shop.brokerFor("inventory");
    const skuId = 700000 + Math.floor(Math.random() * 100000);
    await inv.call("inventory.init", { skuId, onHand: 10 });
    const orderNo = `T${crypto.randomBytes(6).toString("hex")}`;
    await inv.call("inventory.reserve", { reference: orderNo, lines: [{ skuId, quantity: 3 }] });
    const id = await paid(orderNo);
    await waitFor(async () => (await processed(id)) === 1, { what: "order.paid processed" });
    const [stock] = (await inv.call("inventory.getMany", { skuIds: [skuId] })) as { onHand: number; reserved: number }[];
    expect(stock).toMatchObject({ onHand: 7, reserved: 0 });
  });

  it("settles an order.paid whose reservation was already released", async () => {
    const inv = shop.brokerFor("inventory");
    const skuId = 800000 + Math.floor(Math.random() * 100000);
    await inv.call("inventory.init", { skuId, onHand: 5 });
    const orderNo = `T${crypto.randomBytes(6).toString("hex")}`;
    await inv.call("inventory.reserve", { reference: orderNo, lines: [{ skuId, quantity: 2 }] });
    await inv.call("inventory.release", { reference: orderNo, reason: "refunded before the payment event arrived" });
    const id = await paid(orderNo);
    // settled on first delivery (before the fix it was retried with backoff and dead-lettered)
    await waitFor(async () => (await processed(id)) === 1, { what: "order.paid settled", timeout: 4000 });
    const [stock] = (await inv.call("inventory.getMany", { skuIds: [skuId] })) as { onHand: number; reserved: number }[];
    expect(stock).toMatchObject({ onHand: 5, reserved: 0 });
  });
});
