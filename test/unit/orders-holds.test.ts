/**
 * The holds saga of the create-order command against stub inventory and marketing services: the
 * holds are taken in order (stock, coupon, points, then any extra one), and on any failure what
 * was taken is given back exactly once, in reverse, keyed by the order number.
 */
import { Errors, ServiceBroker } from "moleculer";
import { Hold, orderHolds, withHolds } from "../../services/orders/holds";
import { bizError } from "../../services/shared/errors";

type Fail = Partial<Record<string, () => Error>>;

function stubs(broker: ServiceBroker, calls: string[], fail: Fail) {
  const act = (name: string) => async (ctx: { params: Record<string, unknown> }) => {
    const key = ctx.params.reference ?? ctx.params.orderNo;
    calls.push(`${name} ${key}`);
    const f = fail[name];
    if (f) throw f();
    return { ok: true };
  };
  broker.createService({ name: "inventory", actions: { reserve: act("reserve"), release: act("release") } });
  broker.createService({
    name: "marketing",
    actions: { lockCoupon: act("lockCoupon"), releaseCoupon: act("releaseCoupon"), freezePoints: act("freezePoints"), unfreezePoints: act("unfreezePoints") },
  });
}

describe("orders: holds saga", () => {
  let broker: ServiceBroker;
  let calls: string[];
  let fail: Fail;
  let reported: string[];

  beforeEach(async () => {
    broker = new ServiceBroker({ logger: false });
    calls = [];
    fail = {};
    reported = [];
    stubs(broker, calls, fail);
    await broker.start();
  });
  afterEach(() => broker.stop());

  const holds = (extra: Hold[] = [], h = { couponId: 5 as number | null, points: 300 }) =>
    orderHolds(broker, { orderNo: "O1", userId: 9, lines: [{ skuId: 1, quantity: 2 }], holds: h, extra });
  const run = (hs: Hold[], write: () => Promise<string> = async () => (calls.push("write"), "order")) =>
    withHolds(hs, write, (hold, err) => reported.push(`${hold}: ${(err as Error).message}`));

  it("takes stock, then the coupon, then the points, then writes; gives nothing back", async () => {
    await expect(run(holds())).resolves.toBe("order");
    expect(calls).toEqual(["reserve O1", "lockCoupon O1", "freezePoints O1", "write"]);
  });

  it("a flash sale's order takes no stock hold: its unit sits in the sale's own hold", async () => {
    const hs = orderHolds(broker, { orderNo: "O1", userId: 9, lines: [{ skuId: 1, quantity: 1 }], holds: { couponId: null, points: 0 }, source: "SECKILL" });
    await expect(run(hs, async () => Promise.reject(new Error("disk full")))).rejects.toThrow("disk full");
    expect(calls).toEqual([]);
  });

  it("takes only what the order uses", async () => {
    await run(holds([], { couponId: null, points: 0 }));
    expect(calls).toEqual(["reserve O1", "write"]);
  });

  it("writing fails: points, coupon and stock are given back once each, in reverse", async () => {
    await expect(run(holds(), async () => Promise.reject(new Error("disk full")))).rejects.toThrow("disk full");
    expect(calls).toEqual(["reserve O1", "lockCoupon O1", "freezePoints O1", "unfreezePoints O1", "releaseCoupon O1", "release O1"]);
  });

  it("a refused take (a final 4xx) gives back only what came before it", async () => {
    fail.freezePoints = () => bizError("INSUFFICIENT_POINTS");
    await expect(run(holds())).rejects.toMatchObject({ type: "INSUFFICIENT_POINTS" });
    expect(calls).toEqual(["reserve O1", "lockCoupon O1", "freezePoints O1", "releaseCoupon O1", "release O1"]);
  });

  it("a take without an answer (timeout) may have happened: it is given back too, then the rest", async () => {
    fail.lockCoupon = () => new Errors.MoleculerRetryableError("timed out", 504, "REQUEST_TIMEOUT");
    await expect(run(holds())).rejects.toMatchObject({ type: "REQUEST_TIMEOUT" });
    // the broker's retry policy is off here: one attempt
    expect(calls).toEqual(["reserve O1", "lockCoupon O1", "releaseCoupon O1", "release O1"]);
  });

  it("no stock: OUT_OF_STOCK and nothing to give back", async () => {
    fail.reserve = () => bizError("INSUFFICIENT_STOCK", undefined, { skuId: 1, requested: 2, available: 1 });
    await expect(run(holds())).rejects.toMatchObject({ type: "OUT_OF_STOCK", data: { skuId: 1, requested: 2, available: 1 } });
    expect(calls).toEqual(["reserve O1"]);
  });

  it("an extra hold (a flash sale's unit) is taken last and given back first", async () => {
    const unit: Hold = { name: "seckill-unit", take: async () => calls.push("take unit"), giveBack: async () => calls.push("give unit back") };
    await expect(run(holds([unit]), async () => Promise.reject(new Error("no")))).rejects.toThrow("no");
    expect(calls).toEqual(["reserve O1", "lockCoupon O1", "freezePoints O1", "take unit", "give unit back", "unfreezePoints O1", "releaseCoupon O1", "release O1"]);
  });

  it("a give-back that fails is reported and the others still run; the cause is what the caller sees", async () => {
    fail.releaseCoupon = () => new Error("marketing blew up");
    await expect(run(holds(), async () => Promise.reject(new Error("disk full")))).rejects.toThrow("disk full");
    expect(calls.slice(3)).toEqual(["unfreezePoints O1", "releaseCoupon O1", "release O1"]);
    expect(reported).toEqual(["coupon: marketing blew up"]);
  });

  it("marketing gone between pricing and the hold: 503, and the stock goes back", async () => {
    await broker.destroyService("marketing");
    await expect(run(holds())).rejects.toMatchObject({ type: "SERVICE_UNAVAILABLE", code: 503 });
    expect(calls).toEqual(["reserve O1", "release O1"]);
  });
});
