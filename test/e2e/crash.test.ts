/**
 * Crash test, cluster shape, real OS processes: four nodes (gateway+users+catalog+cart,
 * inventory, orders, payments) over NATS, JetStream, MariaDB and Redis. 50 sandbox payments are
 * completed at once and the node that consumes `payment.succeeded` (orders) is killed with
 * SIGKILL while they are being applied, then started again. Afterwards every order is PAID, every
 * reservation was committed exactly once, on-hand stock dropped by exactly the ordered
 * quantities, and each event was applied once: nothing lost, nothing doubled.
 */
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { Buyer, newBuyer, openPayment, placeOrder, stockedProduct } from "../helpers/checkout";
import { ProcessCluster } from "../helpers/processes";
import { client, loginAdmin, waitFor } from "../helpers/shop";

jest.setTimeout(240_000);

const ORDERS = 50;

/** Run `fn` over `items` with at most `n` in flight. */
async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

describe("crash: kill -9 the payment.succeeded consumer mid-flight (cluster, 4 processes)", () => {
  let cluster: ProcessCluster;
  let db: Sequelize;

  beforeAll(async () => {
    cluster = await ProcessCluster.start([
      { name: "gateway", services: ["api", "users", "catalog", "cart"] },
      { name: "inventory", services: ["inventory"] },
      { name: "orders", services: ["orders"] },
      { name: "payments", services: ["payments"] },
    ]);
    db = acquireSequelize(cluster.databaseUrl);
  });
  afterAll(async () => {
    if (db) await releaseSequelize(cluster.databaseUrl);
    await cluster?.stop();
  });

  const one = async (sql: string, replacements: unknown[] = []) => {
    const [row] = await db.query<Record<string, unknown>>(sql, { replacements, type: QueryTypes.SELECT });
    return Number(Object.values(row)[0]);
  };
  const rows = <T extends object>(sql: string, replacements: unknown[] = []) => db.query<T>(sql, { replacements, type: QueryTypes.SELECT });

  it("all 50 orders end PAID, each reservation committed once, no event lost or applied twice", async () => {
    const http = client(cluster);
    const admin = await loginAdmin(cluster);
    const [item] = await stockedProduct(cluster, admin, [{ price: 1500, stock: 1000 }]);
    const buyers: Buyer[] = await pool(Array.from({ length: 10 }), 5, () => newBuyer(cluster));
    const quantity = (i: number) => 1 + (i % 3);

    const placed = await pool(Array.from({ length: ORDERS }), 10, async (_, i) => {
      const b = buyers[i % buyers.length];
      const order = await placeOrder(http, b, [{ skuId: item.skuId, quantity: quantity(i) }]);
      const payment = await openPayment(http, b, order.orderNo, "sandbox");
      return { b, orderNo: order.orderNo, paymentNo: payment.paymentNo };
    });
    const orderNos = placed.map((p) => p.orderNo);
    const inOrders = `(${orderNos.map(() => "?").join(",")})`;
    const paidCount = () => one(`SELECT COUNT(*) FROM orders WHERE status = 'PAID' AND order_no IN ${inOrders}`, orderNos);
    const stockBefore = (await rows<{ on_hand: number; reserved: number }>("SELECT on_hand, reserved FROM stock WHERE sku_id = ?", [item.skuId]))[0];
    const totalQty = placed.reduce((s, _, i) => s + quantity(i), 0);
    expect(Number(stockBefore.reserved)).toBe(totalQty);

    // 50 buyers finish the provider's pay page at once; the orders node dies as soon as the
    // first of them has been applied
    const completing = Promise.all(placed.map((p) => http.post(`payments/sandbox/${p.paymentNo}/complete`, {}, { token: p.b.token })));
    await waitFor(async () => (await paidCount()) > 0, { interval: 10, timeout: 60_000, what: "first order paid" });
    const ordersPid = cluster.pid("orders");
    await cluster.kill("orders");
    const paidAtKill = await paidCount();
    const completed = await completing;
    expect(completed.map((r) => r.status)).toEqual(Array(ORDERS).fill(200));
    expect(completed.every((r) => r.body.data.status === "SUCCEEDED")).toBe(true);
    // the kill really was mid-flight: some payments were not applied to their orders yet
    expect(paidAtKill).toBeLessThan(ORDERS);

    await cluster.startNode("orders");
    expect(cluster.pid("orders")).not.toBe(ordersPid);
    await waitFor(async () => (await paidCount()) === ORDERS, { timeout: 150_000, interval: 250, what: "all 50 orders PAID after the restart" });
    await waitFor(
      async () => (await one(`SELECT COUNT(*) FROM reservations WHERE status = 'COMMITTED' AND reference IN ${inOrders}`, orderNos)) === ORDERS,
      { timeout: 60_000, interval: 250, what: "all 50 reservations committed" },
    );

    // every reservation committed exactly once, stock moved by exactly the ordered quantities
    const commits = await rows<{ reference: string; n: number; qty: number }>(
      `SELECT reference, COUNT(*) AS n, SUM(-on_hand_delta) AS qty FROM stock_movements WHERE type = 'commit' AND reference IN ${inOrders} GROUP BY reference`,
      orderNos,
    );
    expect(commits).toHaveLength(ORDERS);
    expect(commits.every((c) => Number(c.n) === 1)).toBe(true);
    const byRef = new Map(commits.map((c) => [c.reference, Number(c.qty)]));
    placed.forEach((p, i) => expect([p.orderNo, byRef.get(p.orderNo)]).toEqual([p.orderNo, quantity(i)]));
    const stockAfter = (await rows<{ on_hand: number; reserved: number }>("SELECT on_hand, reserved FROM stock WHERE sku_id = ?", [item.skuId]))[0];
    expect(Number(stockAfter.on_hand)).toBe(Number(stockBefore.on_hand) - totalQty);
    expect(Number(stockAfter.reserved)).toBe(0);

    // each fact once: one successful payment and one stored provider event per order, one PAID
    // timeline row, one order.paid, each payment.succeeded / order.paid event id processed once
    expect(await one(`SELECT COUNT(*) FROM payments WHERE status = 'SUCCEEDED' AND order_no IN ${inOrders}`, orderNos)).toBe(ORDERS);
    expect(await one(`SELECT COUNT(*) FROM payment_events WHERE payment_no IN (SELECT payment_no FROM payments WHERE order_no IN ${inOrders})`, orderNos)).toBe(ORDERS);
    const paidRows = await rows<{ order_no: string; n: number }>(
      `SELECT order_no, COUNT(*) AS n FROM order_events WHERE status = 'PAID' AND order_no IN ${inOrders} GROUP BY order_no`,
      orderNos,
    );
    expect(paidRows.length).toBe(ORDERS);
    expect(paidRows.every((r) => Number(r.n) === 1)).toBe(true);
    const events = await rows<{ event_id: string; channel: string; payload: string }>(
      "SELECT event_id, channel, payload FROM outbox WHERE channel IN ('payment.succeeded', 'order.paid')",
    );
    const succeeded = events.filter((e) => e.channel === "payment.succeeded");
    const orderPaid = events.filter((e) => e.channel === "order.paid");
    expect(succeeded).toHaveLength(ORDERS);
    expect(orderPaid).toHaveLength(ORDERS);
    expect(new Set(orderPaid.map((e) => JSON.parse(e.payload).data.orderNo)).size).toBe(ORDERS);
    const processed = await rows<{ consumer: string; event_id: string }>("SELECT consumer, event_id FROM processed_events");
    const seen = (consumer: string, ids: string[]) => ids.filter((id) => processed.some((p) => p.consumer === consumer && p.event_id === id)).length;
    expect(seen("orders", succeeded.map((e) => e.event_id))).toBe(ORDERS);
    expect(seen("inventory", orderPaid.map((e) => e.event_id))).toBe(ORDERS);
    // nothing was refunded: no payment was mistaken for one on a cancelled or already paid order
    expect(await one("SELECT COUNT(*) FROM refunds")).toBe(0);
    await waitFor(async () => (await one("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")) === 0, { what: "outbox drained" });
  });
});
