import { ORDER_ACTIONS, ORDER_STATUSES, OrderStatus, TRANSITIONS, canTransition, isFinal, planTransition } from "../../services/orders/domain/order-state";

describe("orders: status machine", () => {
  it("has exactly the statuses of API.md, each with a transition entry", () => {
    expect([...ORDER_STATUSES].sort()).toEqual(["CANCELLED", "COMPLETED", "PAID", "PENDING_PAYMENT", "REFUNDED", "REFUNDING", "SHIPPED"]);
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...ORDER_STATUSES].sort());
    for (const s of ORDER_STATUSES) for (const to of TRANSITIONS[s].to) expect(ORDER_STATUSES).toContain(to);
  });

  it("allows the documented paths and nothing else", () => {
    const allowed = new Set(ORDER_STATUSES.flatMap((from) => TRANSITIONS[from].to.map((to) => `${from}>${to}`)));
    expect([...allowed].sort()).toEqual(
      [
        "PENDING_PAYMENT>PAID",
        "PENDING_PAYMENT>CANCELLED",
        "PAID>SHIPPED",
        "PAID>REFUNDING",
        "SHIPPED>COMPLETED",
        "SHIPPED>REFUNDING",
        "REFUNDING>REFUNDED",
        "REFUNDING>PAID",
        "REFUNDING>SHIPPED",
      ].sort(),
    );
    expect(canTransition("PAID", "CANCELLED")).toBe(false);
    expect(canTransition("PENDING_PAYMENT", "SHIPPED")).toBe(false);
    expect(canTransition("COMPLETED", "REFUNDING")).toBe(false);
  });

  it("final statuses go nowhere", () => {
    expect(ORDER_STATUSES.filter(isFinal).sort()).toEqual(["CANCELLED", "COMPLETED", "REFUNDED"]);
  });

  it("every named action ends in a legal transition from each of its start states", () => {
    for (const [name, def] of Object.entries(ORDER_ACTIONS)) {
      for (const from of def.from as readonly OrderStatus[]) {
        const targets = def.to ? [def.to] : TRANSITIONS[from].to.filter((s) => s === "PAID" || s === "SHIPPED");
        expect(targets.length).toBeGreaterThan(0);
        for (const to of targets) expect([name, canTransition(from, to)]).toEqual([name, true]);
      }
    }
  });

  it("plans moves by action and actor", () => {
    expect(planTransition("pay", "PENDING_PAYMENT", "system")).toEqual({ ok: true, from: "PENDING_PAYMENT", to: "PAID" });
    expect(planTransition("cancel", "PENDING_PAYMENT", "buyer")).toEqual({ ok: true, from: "PENDING_PAYMENT", to: "CANCELLED" });
    expect(planTransition("ship", "PAID", "admin")).toMatchObject({ ok: true, to: "SHIPPED" });
    expect(planTransition("confirm", "SHIPPED", "buyer")).toMatchObject({ ok: true, to: "COMPLETED" });
    expect(planTransition("requestRefund", "SHIPPED", "buyer")).toMatchObject({ ok: true, to: "REFUNDING" });
    expect(planTransition("rejectRefund", "REFUNDING", "admin", "SHIPPED")).toMatchObject({ ok: true, to: "SHIPPED" });
    expect(planTransition("refunded", "REFUNDING", "system")).toMatchObject({ ok: true, to: "REFUNDED" });
  });

  it("refuses moves from the wrong status or by the wrong actor", () => {
    expect(planTransition("cancel", "PAID", "buyer")).toMatchObject({ ok: false });
    expect(planTransition("confirm", "PAID", "buyer")).toMatchObject({ ok: false, reason: "cannot confirm an order that is PAID" });
    expect(planTransition("ship", "PAID", "buyer")).toMatchObject({ ok: false, reason: "buyer may not ship an order" });
    expect(planTransition("pay", "PENDING_PAYMENT", "buyer")).toMatchObject({ ok: false });
    expect(planTransition("requestRefund", "PENDING_PAYMENT", "buyer")).toMatchObject({ ok: false });
    expect(planTransition("requestRefund", "COMPLETED", "buyer")).toMatchObject({ ok: false });
    // a rejection may only go back to where a refund can start from
    expect(planTransition("rejectRefund", "REFUNDING", "admin", "CANCELLED")).toMatchObject({ ok: false });
    expect(planTransition("rejectRefund", "REFUNDING", "admin")).toMatchObject({ ok: false });
  });
});
