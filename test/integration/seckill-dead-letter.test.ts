/**
 * A ticket whose order cannot be written (cluster shape): the orders node is gone, the writer's
 * deliveries fail until the last one; the ticket is then FAILED with a reason, its unit and the
 * buyer's slot go back to the sale, `seckill.ticket` FAILED is published once, and the message
 * lands in the dead letters (a replay finds the ticket FAILED and changes nothing).
 */
import { QueryTypes } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { Shop, client, loginAdmin, startShop, waitFor } from "../helpers/shop";
import { buyers, ok, publishSale, purchase } from "../helpers/seckill";

jest.setTimeout(180_000);

describe("seckill: the writer gives up (cluster)", () => {
  let shop: Shop;

  beforeAll(async () => {
    shop = await startShop({
      shape: "cluster",
      nodes: [["api", "users", "catalog", "inventory", "cart", "payments", "ops", "seckill"], ["orders"]],
    });
  });
  afterAll(async () => {
    await shop?.stop();
  });

  it("FAILED with a reason, the unit and the slot back, a dead letter, one seckill.ticket event", async () => {
    const http = client(shop);
    const admin = await loginAdmin(shop);
    const { sale } = await publishSale(shop, admin, { quantity: 1, perUserLimit: 1 });
    const [b] = await buyers(shop, 1);
    await shop.brokers[1].stop();
    const r = await purchase(http, b, sale.id);
    expect(r.status).toBe(202);
    const ticket = r.body.data.ticket;
    const t = await waitFor(
      async () => {
        const a = ok(await http.get(`seckill/tickets/${ticket}`, { token: b.token }), "ticket");
        return a.status === "FAILED" ? a : null;
      },
      { what: "ticket failed", timeout: 90_000, interval: 250 },
    );
    expect(t.reason).toMatch(/could not be written/);
    expect(ok(await http.get(`seckill/events/${sale.id}`), "sale").remaining).toBe(1);
    expect(ok(await http.get(`admin/seckill/events/${sale.id}`, { token: admin }), "figures").figures).toMatchObject({ failed: 1, ordered: 0, remaining: 1 });
    const letters = await waitFor(
      async () => {
        const l = ok(await http.get("admin/dead-letters", { token: admin, headers: {} }), "dead letters").items.filter((d: any) => d.channel === "seckill.accepted");
        return l.length ? l : null;
      },
      { what: "dead letter", timeout: 30_000 },
    );
    expect(letters[0].payload).toMatchObject({ ticket, eventId: sale.id, userId: b.id });
    // the slot is free again: the same buyer may buy the unit that came back
    expect((await purchase(http, b, sale.id)).status).toBe(202);
    const db = acquireSequelize(shop.databaseUrl);
    try {
      const [{ n }] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE channel = 'seckill.ticket' AND payload LIKE ?", {
        replacements: [`%${ticket}%`],
        type: QueryTypes.SELECT,
      });
      expect(Number(n)).toBe(1);
    } finally {
      await releaseSequelize(shop.databaseUrl);
    }
    // a replay of the dead letter finds the ticket FAILED: no order, nothing given back twice
    ok(await http.post(`admin/dead-letters/${letters[0].id}/replay`, {}, { token: admin }), "replay");
    await new Promise((r2) => setTimeout(r2, 1500));
    expect(ok(await http.get(`seckill/tickets/${ticket}`, { token: b.token }), "ticket").status).toBe("FAILED");
    expect(ok(await http.get(`seckill/events/${sale.id}`), "sale").remaining).toBe(0);
  });
});
