/**
 * The pure rules of coupons and promotions: which terms are refused and why, what status a
 * coupon shows, whether an order may use it, which tiers make sense and which scopes touch what.
 */
import { claimViolation, couponTermsViolation, shownStatus, usability } from "../../services/marketing/domain/coupon-rules";
import { cleanRules, isRunning, promotionViolation } from "../../services/marketing/domain/promotion-rules";
import { normaliseScope, touches } from "../../services/marketing/domain/scope";

const now = new Date("2026-06-01T12:00:00Z");
const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);

describe("coupon terms", () => {
  const ok = { type: "FIXED" as const, value: 500, threshold: 5000, validFrom: hours(-1), validTo: hours(1) };
  it.each([
    ["a FIXED coupon below its threshold", ok],
    ["a FIXED coupon equal to its threshold", { ...ok, value: 5000 }],
    ["a FIXED coupon without a threshold (the price caps it)", { ...ok, threshold: 0 }],
    ["100 % off", { ...ok, type: "PERCENT" as const, value: 10_000, threshold: 0 }],
    ["0.01 % off", { ...ok, type: "PERCENT" as const, value: 1 }],
  ])("accepts %s", (_w, t) => expect(couponTermsViolation(t)).toBeNull());

  it.each([
    ["more than 100 % off", { ...ok, type: "PERCENT" as const, value: 10_001 }, "COUPON_TERMS_INVALID", "value"],
    ["a threshold below the discount", { ...ok, value: 5001 }, "COUPON_TERMS_INVALID", "threshold"],
    ["validTo before validFrom", { ...ok, validFrom: hours(1), validTo: hours(-1) }, "OFFER_WINDOW_INVALID", "validTo"],
    ["an empty window", { ...ok, validTo: ok.validFrom }, "OFFER_WINDOW_INVALID", "validTo"],
  ])("refuses %s", (_w, t, type, field) => expect(couponTermsViolation(t)).toMatchObject({ type, field }));
});

describe("claiming", () => {
  const t = { enabled: true, validFrom: hours(-1), validTo: hours(1) };
  it("is open while enabled and inside the window", () => expect(claimViolation(t, now)).toBeNull());
  it.each([
    ["disabled", { ...t, enabled: false }],
    ["not started", { ...t, validFrom: hours(1), validTo: hours(2) }],
    ["ended", { ...t, validTo: now }],
  ])("is closed when %s", (_w, x) => expect(claimViolation(x, now)?.type).toBe("COUPON_NOT_CLAIMABLE"));
});

describe("a coupon", () => {
  const c = { status: "UNUSED", orderNo: null, validFrom: hours(-1), validTo: hours(1) };
  it("shows EXPIRED when unused past validTo, and only then", () => {
    expect(shownStatus("UNUSED", now, now)).toBe("EXPIRED");
    expect(shownStatus("UNUSED", hours(1), now)).toBe("UNUSED");
    expect(shownStatus("LOCKED", hours(-1), now)).toBe("LOCKED");
    expect(shownStatus("USED", hours(-1), now)).toBe("USED");
  });
  it("is available when unused and valid", () => expect(usability(c, now, "A")).toEqual({ kind: "available" }));
  it("is held by the order that locked or used it", () => {
    expect(usability({ ...c, status: "LOCKED", orderNo: "A" }, now, "A")).toEqual({ kind: "held", status: "LOCKED" });
    expect(usability({ ...c, status: "USED", orderNo: "A", validTo: hours(-1) }, now, "A")).toEqual({ kind: "held", status: "USED" });
  });
  it.each([
    ["locked by another order", { ...c, status: "LOCKED", orderNo: "B" }, "COUPON_NOT_APPLICABLE", "IN_USE"],
    ["used", { ...c, status: "USED", orderNo: "B" }, "COUPON_NOT_APPLICABLE", "USED"],
    ["expired", { ...c, validTo: now }, "COUPON_EXPIRED", "EXPIRED"],
    ["not yet valid", { ...c, validFrom: hours(1), validTo: hours(2) }, "COUPON_NOT_APPLICABLE", "NOT_YET_VALID"],
  ])("is refused when %s", (_w, x, type, reason) => expect(usability(x, now, "A")).toMatchObject({ kind: "refused", type, reason }));
  it("locked for some order is refused to a caller naming none", () =>
    expect(usability({ ...c, status: "LOCKED", orderNo: "A" }, now)).toMatchObject({ kind: "refused", reason: "IN_USE" }));
});

describe("promotion tiers", () => {
  const window = { startAt: hours(-1), endAt: hours(1) };
  it.each([
    ["full-reduction (满减) tiers", { type: "FULL_REDUCTION" as const, rules: [{ threshold: 10_000, off: 1_000 }, { threshold: 20_000, off: 3_000 }] }],
    ["discount tiers", { type: "DISCOUNT" as const, rules: [{ threshold: 0, rateBp: 9_500 }, { threshold: 50_000, rateBp: 9_000 }] }],
  ])("accepts %s", (_w, p) => expect(promotionViolation({ ...p, ...window })).toBeNull());

  it.each([
    ["off equal to the threshold", "FULL_REDUCTION", [{ threshold: 1_000, off: 1_000 }], "rules[0]"],
    ["a tier without off", "FULL_REDUCTION", [{ threshold: 1_000, rateBp: 9_000 }], "rules[0]"],
    ["a rate of 100 %", "DISCOUNT", [{ threshold: 0, rateBp: 10_000 }], "rules[0]"],
    ["a rate of 0", "DISCOUNT", [{ threshold: 0, rateBp: 0 }], "rules[0]"],
    ["a tier with both amounts", "DISCOUNT", [{ threshold: 0, rateBp: 9_000, off: 5 }], "rules[0]"],
    ["equal thresholds", "FULL_REDUCTION", [{ threshold: 10_000, off: 1_000 }, { threshold: 10_000, off: 2_000 }], "rules[1]"],
    ["a higher tier with less off", "FULL_REDUCTION", [{ threshold: 10_000, off: 2_000 }, { threshold: 20_000, off: 2_000 }], "rules[1]"],
    ["a higher tier paying more", "DISCOUNT", [{ threshold: 0, rateBp: 9_000 }, { threshold: 10_000, rateBp: 9_500 }], "rules[1]"],
  ])("refuses %s", (_w, type, rules, field) =>
    expect(promotionViolation({ type: type as "FULL_REDUCTION" | "DISCOUNT", rules, ...window })).toMatchObject({ type: "PROMOTION_RULES_INVALID", field }));

  it("refuses a window that ends before it starts", () =>
    expect(promotionViolation({ type: "DISCOUNT", rules: [{ threshold: 0, rateBp: 9_000 }], startAt: hours(1), endAt: hours(-1) })).toMatchObject({
      type: "OFFER_WINDOW_INVALID",
      field: "endAt",
    }));

  it("keeps only the amount of the promotion's type", () => {
    expect(cleanRules("DISCOUNT", [{ threshold: 0, rateBp: 9_000 }])).toEqual([{ threshold: 0, rateBp: 9_000 }]);
    expect(cleanRules("FULL_REDUCTION", [{ threshold: 100, off: 10 }])).toEqual([{ threshold: 100, off: 10 }]);
  });

  it("runs while enabled, from startAt until (not including) endAt", () => {
    expect(isRunning({ enabled: true, ...window }, now)).toBe(true);
    expect(isRunning({ enabled: false, ...window }, now)).toBe(false);
    expect(isRunning({ enabled: true, startAt: now, endAt: hours(1) }, now)).toBe(true);
    expect(isRunning({ enabled: true, startAt: hours(-1), endAt: now }, now)).toBe(false);
  });
});

describe("scope", () => {
  it("is stored sorted and without duplicates, both lists present", () =>
    expect(normaliseScope({ productIds: [3, 1, 3] })).toEqual({ categoryIds: [], productIds: [1, 3] }));
  it("empty covers every product", () => {
    expect(touches({}, [1], [])).toBe(true);
    expect(touches({ categoryIds: [], productIds: [] }, [], [])).toBe(true);
  });
  it("touches goods by product or by category (ancestors included by the caller)", () => {
    const scope = { categoryIds: [10], productIds: [5] };
    expect(touches(scope, [5], [])).toBe(true);
    expect(touches(scope, [6], [11, 10])).toBe(true);
    expect(touches(scope, [6], [11])).toBe(false);
  });
});
