/**
 * The inventory integration suite, run once per shape (test/integration/inventory.test.ts and
 * inventory-cluster.test.ts). Concurrency claims fire many calls at once through the broker of the
 * gateway node (in the cluster shape that node is not the inventory node, so every call crosses
 * NATS), then count: the stock row, the reservations and the movement log must all agree.
 */
import { ServiceBroker } from "moleculer";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import type { InventoryLowEvent, Reservation, StockLevel } from "../../services/inventory/inventory.contracts";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import { Shop, ShopOptions, client, loginAdmin, newCustomer, startShop, waitFor } from "./shop";

type Settled<T> = { ok: true; value: T } | { ok: false; err: { type?: string; code?: number; data?: any; message?: string } };

async function settle<T>(ps: Promise<T>[]): Promise<Settled<T>[]> {
  const rs = await Promise.allSettled(ps);
  return rs.map((r) => (r.status === "fulfilled" ? { ok: true, value: r.value } : { ok: false, err: r.reason }));
}

export function inventorySuite(opts: ShopOptions & { label: string }) {
  describe(`inventory (${opts.label})`, () => {
    let shop: Shop;
    let caller: ServiceBroker; // the gateway's node: calls from here reach inventory like other services' calls do
    let db: Sequelize;
    let nextSku = 1000;
    const lowEvents: EventEnvelope<InventoryLowEvent>[] = [];
    const stockChanged: number[][] = [];

    const call = <T>(action: string, params: unknown) => caller.call<T, unknown>(`inventory.${action}`, params);
    const newSku = async (onHand: number, lowStockThreshold = 0) => {
      const skuId = nextSku++;
      await call("init", { skuId, onHand, lowStockThreshold });
      return skuId;
    };
    const row = async (skuId: number) => {
      const [r] = await db.query<{ on_hand: number; reserved: number }>("SELECT on_hand, reserved FROM stock WHERE sku_id = ?", {
        replacements: [skuId],
        type: QueryTypes.SELECT,
      });
      return { onHand: Number(r.on_hand), reserved: Number(r.reserved) };
    };
    const ledger = async (skuId: number) => {
      const [r] = await db.query<{ onHand: number | null; reserved: number | null; n: number }>(
        "SELECT SUM(on_hand_delta) AS onHand, SUM(reserved_delta) AS reserved, COUNT(*) AS n FROM stock_movements WHERE sku_id = ?",
        { replacements: [skuId], type: QueryTypes.SELECT },
      );
      return { onHand: Number(r.onHand ?? 0), reserved: Number(r.reserved ?? 0), rows: Number(r.n) };
    };
    const count = async (sql: string, replacements: unknown[]) => {
      const [r] = await db.query<{ n: number }>(sql, { replacements, type: QueryTypes.SELECT });
      return Number(r.n);
    };
    /** the stock row and the movement log tell the same story */
    const expectConsistent = async (skuId: number, expected: { onHand: number; reserved: number }) => {
      expect(await row(skuId)).toEqual(expected);
      const l = await ledger(skuId);
      expect({ onHand: l.onHand, reserved: l.reserved }).toEqual(expected);
    };

    beforeAll(async () => {
      shop = await startShop(opts);
      caller = shop.brokerFor("api");
      db = acquireSequelize(shop.databaseUrl);
      caller.createService({
        name: "inventoryWatcher",
        channels: {
          "inventory.low": {
            group: "test",
            handler(payload: EventEnvelope<InventoryLowEvent>) {
              lowEvents.push(payload);
            },
          },
        },
        events: {
          "catalog.stockChanged"(ctx: { params: { skuIds: number[] } }) {
            stockChanged.push(ctx.params.skuIds);
          },
        },
      });
      // the inventory node must know the watcher before its broadcasts can reach it
      await shop.brokerFor("inventory").waitForServices(["inventoryWatcher"], 20_000);
    });

    afterAll(async () => {
      if (db) await releaseSequelize(shop.databaseUrl);
      await shop?.stop();
    });

    it("init creates a stock row once; a second init changes nothing", async () => {
      const skuId = nextSku++;
      const first = await call<StockLevel>("init", { skuId, onHand: 7, lowStockThreshold: 2 });
      expect(first).toEqual({ skuId, onHand: 7, reserved: 0, available: 7, lowStockThreshold: 2 });
      const again = await call<StockLevel>("init", { skuId, onHand: 99, lowStockThreshold: 50 });
      expect(again).toEqual(first);
      expect((await ledger(skuId)).rows).toBe(1);
      expect(await call("getMany", { skuIds: [skuId, 999_999] })).toEqual([first]);
    });

    it("200 parallel reservations of 1 unit against 50 available: exactly 50 succeed", async () => {
      const skuId = await newSku(50, 10);
      const results = await settle(
        Array.from({ length: 200 }, (_, i) => call<Reservation>("reserve", { reference: `par-${skuId}-${i}`, lines: [{ skuId, quantity: 1 }] })),
      );
      const won = results.filter((r) => r.ok);
      const lost = results.filter((r): r is Extract<Settled<Reservation>, { ok: false }> => !r.ok);
      expect(won).toHaveLength(50);
      expect(lost).toHaveLength(150);
      expect(new Set(lost.map((r) => r.err.type))).toEqual(new Set(["INSUFFICIENT_STOCK"]));
      expect(lost[0].err.code).toBe(409);
      expect(lost[0].err.data).toMatchObject({ skuId, requested: 1, available: 0 });

      expect(await call<StockLevel[]>("getMany", { skuIds: [skuId] })).toEqual([
        { skuId, onHand: 50, reserved: 50, available: 0, lowStockThreshold: 10 },
      ]);
      await expectConsistent(skuId, { onHand: 50, reserved: 50 });
      expect(await count("SELECT COUNT(*) AS n FROM stock_movements WHERE sku_id = ? AND type = 'reserve'", [skuId])).toBe(50);
      expect(await count("SELECT COUNT(*) AS n FROM reservations WHERE reference LIKE ?", [`par-${skuId}-%`])).toBe(50);
      expect(await count("SELECT COUNT(*) AS n FROM reservation_lines WHERE sku_id = ?", [skuId])).toBe(50);
      // available crossed the threshold (11 → 10) exactly once, whichever reservation did it
      const low = await db.query<{ payload: string }>("SELECT payload FROM outbox WHERE channel = 'inventory.low'", { type: QueryTypes.SELECT });
      const mine = low.map((r) => JSON.parse(r.payload) as EventEnvelope<InventoryLowEvent>).filter((e) => e.data.skuId === skuId);
      expect(mine.map((e) => e.data)).toEqual([{ skuId, available: 10, threshold: 10 }]);
    });

    it("a multi-line reservation with one short line reserves nothing", async () => {
      const plenty = await newSku(10);
      const scarce = await newSku(1);
      await expect(
        call("reserve", {
          reference: `short-${scarce}`,
          lines: [
            { skuId: plenty, quantity: 3 },
            { skuId: scarce, quantity: 1 },
            { skuId: scarce, quantity: 1 }, // merged: 2 requested
          ],
        }),
      ).rejects.toMatchObject({ type: "INSUFFICIENT_STOCK", code: 409, data: { skuId: scarce, requested: 2, available: 1 } });
      await expectConsistent(plenty, { onHand: 10, reserved: 0 });
      await expectConsistent(scarce, { onHand: 1, reserved: 0 });
      expect(await count("SELECT COUNT(*) AS n FROM reservations WHERE reference = ?", [`short-${scarce}`])).toBe(0);

      // and the reference is still free: a request that fits goes through
      const ok = await call<Reservation>("reserve", { reference: `short-${scarce}`, lines: [{ skuId: scarce, quantity: 1 }, { skuId: plenty, quantity: 3 }] });
      expect(ok).toMatchObject({ status: "OPEN", lines: [{ skuId: plenty, quantity: 3 }, { skuId: scarce, quantity: 1 }] });
      await expectConsistent(plenty, { onHand: 10, reserved: 3 });
    });

    it("20 concurrent calls with the same reference make one reservation", async () => {
      const a = await newSku(100);
      const b = await newSku(100);
      const reference = `same-${a}`;
      const lines = [{ skuId: b, quantity: 2 }, { skuId: a, quantity: 3 }];
      const results = await settle(Array.from({ length: 20 }, () => call<Reservation>("reserve", { reference, lines })));
      expect(results.filter((r) => !r.ok)).toEqual([]);
      const values = results.map((r) => (r as { value: Reservation }).value);
      expect(new Set(values.map((v) => JSON.stringify(v))).size).toBe(1);
      expect(values[0]).toMatchObject({ reference, status: "OPEN", lines: [{ skuId: a, quantity: 3 }, { skuId: b, quantity: 2 }] });
      expect(await count("SELECT COUNT(*) AS n FROM reservations WHERE reference = ?", [reference])).toBe(1);
      expect(await count("SELECT COUNT(*) AS n FROM stock_movements WHERE reference = ?", [reference])).toBe(2);
      await expectConsistent(a, { onHand: 100, reserved: 3 });
      await expectConsistent(b, { onHand: 100, reserved: 2 });

      // the reference cannot be reused for something else
      await expect(call("reserve", { reference, lines: [{ skuId: a, quantity: 1 }] })).rejects.toMatchObject({ type: "RESERVATION_REFERENCE_CONFLICT", code: 409 });
      await expectConsistent(a, { onHand: 100, reserved: 3 });
    });

    it("20 concurrent calls with the same reference that cannot be met all fail cleanly, and the reference stays free", async () => {
      const skuId = await newSku(2);
      const reference = `same-short-${skuId}`;
      const results = await settle(Array.from({ length: 20 }, () => call("reserve", { reference, lines: [{ skuId, quantity: 3 }] })));
      expect(results.map((r) => (r.ok ? "ok" : r.err.type))).toEqual(Array(20).fill("INSUFFICIENT_STOCK"));
      expect(await count("SELECT COUNT(*) AS n FROM reservations WHERE reference = ?", [reference])).toBe(0);
      await expectConsistent(skuId, { onHand: 2, reserved: 0 });
      expect(await call("reserve", { reference, lines: [{ skuId, quantity: 2 }] })).toMatchObject({ status: "OPEN" });
    });

    it("reservations naming the same SKUs in opposite orders all go through (rows are taken in one order)", async () => {
      const a = await newSku(1000);
      const b = await newSku(1000);
      const c = await newSku(1000);
      const orders = [
        [a, b, c],
        [c, b, a],
        [b, a, c],
        [c, a, b],
      ];
      const results = await settle(
        Array.from({ length: 60 }, (_, i) =>
          call("reserve", { reference: `order-${a}-${i}`, lines: orders[i % orders.length].map((skuId) => ({ skuId, quantity: 2 })) }),
        ),
      );
      expect(results.filter((r) => !r.ok)).toEqual([]);
      for (const skuId of [a, b, c]) await expectConsistent(skuId, { onHand: 1000, reserved: 120 });
    });

    it("release and commit racing on one reservation: exactly one wins", async () => {
      const skuId = await newSku(100);
      const refs = Array.from({ length: 10 }, (_, i) => `race-${skuId}-${i}`);
      for (const reference of refs) await call("reserve", { reference, lines: [{ skuId, quantity: 2 }] });
      await expectConsistent(skuId, { onHand: 100, reserved: 20 });

      let committed = 0;
      for (const reference of refs) {
        const kinds = ["release", "commit", "release", "commit", "commit", "release"];
        const rs = await settle(kinds.map((k) => call<Reservation>(k, { reference })));
        const winner = rs.find((r) => r.ok) as { value: Reservation } | undefined;
        expect(winner).toBeDefined();
        const status = winner!.value.status;
        expect(["RELEASED", "COMMITTED"]).toContain(status);
        const winningKind = status === "RELEASED" ? "release" : "commit";
        rs.forEach((r, i) => {
          if (kinds[i] === winningKind) expect(r).toMatchObject({ ok: true, value: { status } }); // repeats are idempotent
          else expect(r).toMatchObject({ ok: false, err: { type: "RESERVATION_STATE_CONFLICT", code: 409 } });
        });
        if (status === "COMMITTED") committed++;
        expect(await count("SELECT COUNT(*) AS n FROM stock_movements WHERE reference = ? AND type IN ('release', 'commit')", [reference])).toBe(1);
      }
      await expectConsistent(skuId, { onHand: 100 - 2 * committed, reserved: 0 });
    });

    it("release, commit and returnStock are idempotent and only act on the right state", async () => {
      const skuId = await newSku(10);
      await call("reserve", { reference: `life-${skuId}-a`, lines: [{ skuId, quantity: 4 }] });
      await call("reserve", { reference: `life-${skuId}-b`, lines: [{ skuId, quantity: 3 }] });
      await expectConsistent(skuId, { onHand: 10, reserved: 7 });

      expect(await call("release", { reference: `life-${skuId}-a`, reason: "order cancelled" })).toMatchObject({ status: "RELEASED" });
      expect(await call("release", { reference: `life-${skuId}-a` })).toMatchObject({ status: "RELEASED" });
      await expect(call("commit", { reference: `life-${skuId}-a` })).rejects.toMatchObject({ type: "RESERVATION_STATE_CONFLICT" });
      await expectConsistent(skuId, { onHand: 10, reserved: 3 });

      expect(await call("commit", { reference: `life-${skuId}-b` })).toMatchObject({ status: "COMMITTED" });
      expect(await call("commit", { reference: `life-${skuId}-b` })).toMatchObject({ status: "COMMITTED" });
      await expect(call("release", { reference: `life-${skuId}-b` })).rejects.toMatchObject({ type: "RESERVATION_STATE_CONFLICT" });
      await expectConsistent(skuId, { onHand: 7, reserved: 0 });

      expect(await call("returnStock", { reference: `life-${skuId}-b` })).toMatchObject({ status: "RETURNED" });
      expect(await call("returnStock", { reference: `life-${skuId}-b` })).toMatchObject({ status: "RETURNED" });
      expect(await call("commit", { reference: `life-${skuId}-b` })).toMatchObject({ status: "RETURNED" }); // late duplicate: no effect
      await expect(call("returnStock", { reference: `life-${skuId}-a` })).rejects.toMatchObject({ type: "RESERVATION_STATE_CONFLICT" });
      await expectConsistent(skuId, { onHand: 10, reserved: 0 });
      const types = await db.query<{ type: string }>("SELECT type FROM stock_movements WHERE sku_id = ? ORDER BY id", { replacements: [skuId], type: QueryTypes.SELECT });
      expect(types.map((t) => t.type)).toEqual(["adjust", "reserve", "reserve", "release", "commit", "return"]);

      for (const action of ["commit", "returnStock"]) {
        await expect(call(action, { reference: "no-such-reservation" })).rejects.toMatchObject({ type: "RESERVATION_NOT_FOUND", code: 404 });
      }
    });

    it("a release that arrives before its reserve (a timed-out checkout) makes the late reserve take nothing", async () => {
      const skuId = await newSku(5);
      const reference = `early-release-${skuId}`;
      expect(await call("release", { reference, reason: "checkout timed out" })).toMatchObject({ reference, status: "RELEASED", lines: [] });
      expect(await call("release", { reference })).toMatchObject({ status: "RELEASED" }); // repeat: no effect
      await expect(call("reserve", { reference, lines: [{ skuId, quantity: 2 }] })).rejects.toMatchObject({ type: "RESERVATION_STATE_CONFLICT", code: 409 });
      await expect(call("commit", { reference })).rejects.toMatchObject({ type: "RESERVATION_STATE_CONFLICT" });
      await expectConsistent(skuId, { onHand: 5, reserved: 0 });
      // the same race fired concurrently: whichever lands first, nothing stays reserved
      const racing = `race-release-${skuId}`;
      await Promise.allSettled([call("reserve", { reference: racing, lines: [{ skuId, quantity: 1 }] }), call("release", { reference: racing })]);
      await expectConsistent(skuId, { onHand: 5, reserved: 0 });
    });

    it("bad input: unknown SKU, negative, zero or fractional quantities change nothing", async () => {
      const skuId = await newSku(5);
      await expect(call("reserve", { reference: `bad-${skuId}-0`, lines: [{ skuId: 987_654, quantity: 1 }] })).rejects.toMatchObject({
        type: "STOCK_NOT_FOUND",
        code: 404,
        data: { skuId: 987_654 },
      });
      // the unknown SKU sorts after the known one: the known line's update is rolled back
      await expect(
        call("reserve", { reference: `bad-${skuId}-1`, lines: [{ skuId, quantity: 1 }, { skuId: 987_654, quantity: 1 }] }),
      ).rejects.toMatchObject({ type: "STOCK_NOT_FOUND" });
      for (const quantity of [-1, 0, 1.5, "2"]) {
        await expect(call("reserve", { reference: `bad-${skuId}-q`, lines: [{ skuId, quantity }] })).rejects.toMatchObject({
          type: "VALIDATION_ERROR",
          code: 422,
        });
      }
      await expect(call("reserve", { reference: `bad-${skuId}-e`, lines: [] })).rejects.toMatchObject({ type: "VALIDATION_ERROR" });
      await expect(call("reserve", { reference: "has space", lines: [{ skuId, quantity: 1 }] })).rejects.toMatchObject({ type: "VALIDATION_ERROR" });
      await expect(call("init", { skuId: nextSku++, onHand: -1 })).rejects.toMatchObject({ type: "VALIDATION_ERROR" });
      await expectConsistent(skuId, { onHand: 5, reserved: 0 });
      expect(await count("SELECT COUNT(*) AS n FROM reservations WHERE reference LIKE ?", [`bad-${skuId}-%`])).toBe(0);
    });

    it("inventory.low reaches a channel consumer; stock changes are broadcast to the catalog", async () => {
      const skuId = await newSku(12, 5);
      await call("reserve", { reference: `low-${skuId}-1`, lines: [{ skuId, quantity: 6 }] }); // 12 → 6: still above
      await call("reserve", { reference: `low-${skuId}-2`, lines: [{ skuId, quantity: 2 }] }); // 6 → 4: crosses
      await call("reserve", { reference: `low-${skuId}-3`, lines: [{ skuId, quantity: 1 }] }); // 4 → 3: already low
      const ev = (await waitFor(() => lowEvents.find((e) => e.data.skuId === skuId), { what: "inventory.low on the channel" }))!;
      expect(ev).toMatchObject({ type: "inventory.low", producer: "inventory", data: { skuId, available: 4, threshold: 5 } });
      expect(typeof ev.eventId).toBe("string");
      await waitFor(() => stockChanged.some((ids) => ids.includes(skuId)), { what: "catalog.stockChanged broadcast" });
      // only one crossing, so only one event (give a stray second one time to show up)
      await call("release", { reference: `low-${skuId}-1` }); // back above: re-arms
      await call("reserve", { reference: `low-${skuId}-4`, lines: [{ skuId, quantity: 8 }] }); // 9 → 1: crosses again
      await waitFor(() => lowEvents.filter((e) => e.data.skuId === skuId).length >= 2, { what: "second inventory.low" });
      expect(lowEvents.filter((e) => e.data.skuId === skuId).map((e) => e.data.available)).toEqual([4, 1]);
      await waitFor(async () => (await count("SELECT COUNT(*) AS n FROM outbox WHERE producer = 'inventory' AND published_at IS NULL", [])) === 0, {
        what: "outbox drained",
      });
    });

    describe("admin REST", () => {
      let admin: string;
      const http = () => client(shop);

      beforeAll(async () => {
        admin = await loginAdmin(shop);
        // the gateway picks inventory's routes up from the registry a moment after discovery
        await waitFor(async () => (await http().get("inventory/low-stock", { token: admin })).status === 200, { what: "inventory routes" });
      });

      it("shows, adjusts and lists stock through the envelope", async () => {
        const skuId = await newSku(10, 3);
        const view = await http().get(`inventory/${skuId}`, { token: admin });
        expect(view.status).toBe(200);
        expect(view.body).toMatchObject({ code: 0, message: "ok", data: { skuId, onHand: 10, reserved: 0, available: 10, lowStockThreshold: 3 } });

        await call("reserve", { reference: `rest-${skuId}`, lines: [{ skuId, quantity: 4 }] });
        const up = await http().post(`inventory/${skuId}/adjust`, { delta: 5, reason: "delivery" }, { token: admin });
        expect(up.status).toBe(200);
        expect(up.body.data).toEqual({ skuId, onHand: 15, reserved: 4, available: 11, lowStockThreshold: 3 });

        const down = await http().post(`inventory/${skuId}/adjust`, { delta: -9, reason: "stock count" }, { token: admin });
        expect(down.body.data).toMatchObject({ onHand: 6, reserved: 4, available: 2 });

        const tooFar = await http().post(`inventory/${skuId}/adjust`, { delta: -3, reason: "damaged" }, { token: admin });
        expect(tooFar.status).toBe(409);
        expect(tooFar.body).toMatchObject({ code: 80003, type: "STOCK_BELOW_RESERVED", data: { skuId, onHand: 6, reserved: 4, delta: -3 } });
        await expectConsistent(skuId, { onHand: 6, reserved: 4 });

        const low = await http().get("inventory/low-stock?page=1&pageSize=100", { token: admin });
        expect(low.status).toBe(200);
        expect(low.body.data).toMatchObject({ page: 1, pageSize: 100 });
        expect(low.body.data.items).toContainEqual({ skuId, onHand: 6, reserved: 4, available: 2, lowStockThreshold: 3 });
        for (const item of low.body.data.items) expect(item.available).toBeLessThanOrEqual(item.lowStockThreshold);

        const raised = await http().patch(`inventory/${skuId}`, { lowStockThreshold: 1 }, { token: admin });
        expect(raised.body.data).toMatchObject({ skuId, lowStockThreshold: 1 });
        const after = await http().get("inventory/low-stock?pageSize=100", { token: admin });
        expect(after.body.data.items.map((i: StockLevel) => i.skuId)).not.toContain(skuId);

        const log = await http().get(`inventory/${skuId}/movements`, { token: admin });
        expect(log.body.data.total).toBe(4);
        expect(log.body.data.items.map((m: { type: string }) => m.type)).toEqual(["adjust", "adjust", "reserve", "adjust"]);
        expect(log.body.data.items[0]).toMatchObject({ onHandDelta: -9, reservedDelta: 0, reason: "stock count" });
        expect(log.body.data.items[0].reference).toMatch(/^user:\d+$/);
      });

      it("rejects bad input with the envelope and changes nothing", async () => {
        const skuId = await newSku(10);
        const cases: [string, unknown, number, string][] = [
          [`inventory/${skuId}/adjust`, { delta: 1.5, reason: "x" }, 422, "VALIDATION_ERROR"],
          [`inventory/${skuId}/adjust`, { delta: 0, reason: "x" }, 422, "VALIDATION_ERROR"],
          [`inventory/${skuId}/adjust`, { delta: "5", reason: "x" }, 422, "VALIDATION_ERROR"],
          [`inventory/${skuId}/adjust`, { delta: 5 }, 422, "VALIDATION_ERROR"],
          [`inventory/${skuId}/adjust`, { delta: 5, reason: "x", extra: true }, 422, "VALIDATION_ERROR"],
          [`inventory/${skuId}/adjust`, { delta: -11, reason: "x" }, 409, "STOCK_BELOW_RESERVED"],
          [`inventory/424242/adjust`, { delta: 1, reason: "x" }, 404, "STOCK_NOT_FOUND"],
          [`inventory/abc/adjust`, { delta: 1, reason: "x" }, 422, "VALIDATION_ERROR"],
        ];
        for (const [path, body, status, type] of cases) {
          const r = await http().post(path, body, { token: admin });
          expect({ path, body, status: r.status, type: r.body.type }).toEqual({ path, body, status, type });
          expect(typeof r.body.message).toBe("string");
          expect(typeof r.body.code).toBe("number");
        }
        expect((await http().get("inventory/424242", { token: admin })).body).toMatchObject({ type: "STOCK_NOT_FOUND", code: 80001 });
        expect((await http().get("inventory/1.5", { token: admin })).status).toBe(422);
        expect((await http().patch(`inventory/${skuId}`, { lowStockThreshold: -1 }, { token: admin })).status).toBe(422);
        expect((await http().get("inventory/low-stock?pageSize=1000", { token: admin })).status).toBe(422);
        await expectConsistent(skuId, { onHand: 10, reserved: 0 });
      });

      it("is for operators and admins only", async () => {
        const skuId = await newSku(3);
        const customer = await newCustomer(shop);
        expect((await http().get(`inventory/${skuId}`)).status).toBe(401);
        expect((await http().get(`inventory/${skuId}`, { token: customer.token })).status).toBe(403);
        expect((await http().get("inventory/low-stock", { token: customer.token })).status).toBe(403);
        const r = await http().post(`inventory/${skuId}/adjust`, { delta: 100, reason: "x" }, { token: customer.token });
        expect(r.status).toBe(403);
        // internal actions have no route
        expect((await http().post("inventory/reserve", { reference: "x", lines: [{ skuId, quantity: 1 }] }, { token: admin })).status).toBe(404);
        await expectConsistent(skuId, { onHand: 3, reserved: 0 });
      });
    });
  });
}
