/**
 * Seckill crash tests, cluster shape, real OS processes over NATS, JetStream, MariaDB and Redis:
 * a gateway node with the shop's other services and two seckill nodes (admission, relay and
 * writer each). kill -9 of a seckill node while the writer has tickets in flight, and kill -9 of
 * a seckill node right after its admission scripts ran (entries still in its relay's hands).
 * After a restart every accepted ticket has exactly one order and no buyer is over the limit.
 */
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { ProcessCluster } from "../helpers/processes";
import { client, loginAdmin, waitFor } from "../helpers/shop";
import { buyers, ok, publishSale, stampede } from "../helpers/seckill";

jest.setTimeout(420_000);

describe("seckill: kill -9 of a seckill node (cluster, 3 processes)", () => {
  let cluster: ProcessCluster;
  let db: Sequelize;

  beforeAll(async () => {
    cluster = await ProcessCluster.start(
      [
        { name: "gateway", services: ["api", "users", "catalog", "cart", "inventory", "orders", "payments", "ops"] },
        { name: "seckill-a", services: ["seckill"] },
        { name: "seckill-b", services: ["seckill"] },
      ],
      { SECKILL_RELAY_CLAIM_IDLE_MS: "1500", SECKILL_RECONCILE_INTERVAL_MS: "500" },
    );
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

  /**
   * Every admitted ticket has exactly one order, of its buyer, and nothing else was ordered.
   * `seen` are the 202s the buyers received. A node killed between its admission script and its
   * reply admits a buyer whose answer is lost (a 503 at the gateway): that ticket is as real as
   * the others, so the count to reach is the sale's own admission counter (Redis), and the
   * tickets the buyers saw must be among those in the database.
   */
  async function everyTicketOneOrder(admin: string, saleId: number, seen: { ticket: string; userId: number }[], unanswered: Set<number>, perUser: number) {
    const admitted = async () => ok(await client(cluster).get(`admin/seckill/events/${saleId}`, { token: admin }), "figures").figures.accepted as number;
    const ordered = () => one("SELECT COUNT(*) FROM seckill_tickets WHERE event_id = ? AND status = 'ORDERED'", [saleId]);
    let target = 0;
    await waitFor(async () => (target = await admitted()) > 0 && target >= seen.length && (await ordered()) === target, {
      what: "every admitted ticket ordered",
      timeout: 180_000,
      interval: 500,
    }).catch(async (err) => {
      // say where the tickets stand and what the seckill nodes logged, to tell a stranded
      // redelivery from a slow one
      const states = await db.query("SELECT status, COUNT(*) AS n FROM seckill_tickets WHERE event_id = ? GROUP BY status", { replacements: [saleId], type: QueryTypes.SELECT });
      const logs = ["seckill-a", "seckill-b"].map((n) => `--- ${n}\n${cluster.log(n).slice(-4000)}`).join("\n");
      throw new Error(`${(err as Error).message}; admitted ${target}, seen ${seen.length}; ticket states ${JSON.stringify(states)}\n${logs}`);
    });
    const tickets = await db.query<{ ticket: string; user_id: number; order_no: string }>("SELECT ticket, user_id, order_no FROM seckill_tickets WHERE event_id = ?", {
      replacements: [saleId],
      type: QueryTypes.SELECT,
    });
    expect(tickets).toHaveLength(target);
    const inDb = new Set(tickets.map((t) => t.ticket));
    expect(seen.filter((a) => !inDb.has(a.ticket))).toEqual([]);
    // a ticket nobody was told of belongs to a buyer whose request got no 202
    const told = new Set(seen.map((a) => a.ticket));
    for (const t of tickets.filter((x) => !told.has(x.ticket))) expect(unanswered.has(Number(t.user_id))).toBe(true);
    const orders = await db.query<{ order_no: string; user_id: number }>("SELECT order_no, user_id FROM orders WHERE source = 'SECKILL' AND remark = ?", {
      replacements: [`seckill ${saleId}`],
      type: QueryTypes.SELECT,
    });
    expect(orders).toHaveLength(target);
    const byOrder = new Map(orders.map((o) => [o.order_no, Number(o.user_id)]));
    for (const t of tickets) expect(byOrder.get(t.order_no)).toBe(Number(t.user_id));
    const perBuyer = new Map<number, number>();
    for (const o of orders) perBuyer.set(Number(o.user_id), (perBuyer.get(Number(o.user_id)) ?? 0) + 1);
    expect(Math.max(...perBuyer.values())).toBeLessThanOrEqual(perUser);
    expect(await one("SELECT claimed FROM seckill_events WHERE id = ?", [saleId])).toBe(target);
    return target;
  }

  it("kill -9 of a node whose writer has tickets in flight: after its restart every accepted ticket has exactly one order", async () => {
    const admin = await loginAdmin(cluster);
    const crowd = await buyers(cluster, 60);
    const { sale } = await publishSale(cluster, admin, { quantity: 100, perUserLimit: 2, stock: 200 });
    const answers = stampede(cluster, sale.id, crowd.flatMap((b) => [b, b]), 100);
    // die while the writers are at it
    await waitFor(async () => (await one("SELECT COUNT(*) FROM seckill_tickets WHERE event_id = ?", [sale.id])) >= 5, { what: "writing started", interval: 10, timeout: 60_000 });
    await cluster.kill("seckill-a");
    const done = await answers;
    const accepted = done.filter((a) => a.status === 202).map((a) => ({ ticket: a.body.data.ticket as string, userId: a.buyer.id }));
    const unanswered = new Set(done.filter((a) => a.status !== 202).map((a) => a.buyer.id));
    for (const a of done.filter((x) => x.status !== 202)) expect([409, 503]).toContain(a.status);
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThanOrEqual(100);
    await cluster.startNode("seckill-a");
    const admitted = await everyTicketOneOrder(admin, sale.id, accepted, unanswered, 2);
    expect(admitted).toBeLessThanOrEqual(100);
    const figures = ok(await client(cluster).get(`admin/seckill/events/${sale.id}`, { token: admin }), "figures").figures;
    expect(figures).toMatchObject({ accepted: admitted, ordered: admitted, remaining: 100 - admitted });
  });

  it("kill -9 of a node right after its admission scripts ran: the entries its relay had not published are claimed by the other node", async () => {
    const admin = await loginAdmin(cluster);
    const crowd = await buyers(cluster, 40);
    const { sale } = await publishSale(cluster, admin, { quantity: 30, perUserLimit: 1, stock: 30 });
    const done = await stampede(cluster, sale.id, crowd, 40);
    await cluster.kill("seckill-b");
    const accepted = done.filter((a) => a.status === 202).map((a) => ({ ticket: a.body.data.ticket as string, userId: a.buyer.id }));
    expect(accepted).toHaveLength(30);
    const none = new Set<number>();
    expect(await everyTicketOneOrder(admin, sale.id, accepted, none, 1)).toBe(30);
    await cluster.startNode("seckill-b");
    // a restarted node changes nothing
    await new Promise((r) => setTimeout(r, 1000));
    expect(await everyTicketOneOrder(admin, sale.id, accepted, none, 1)).toBe(30);
  });
});
