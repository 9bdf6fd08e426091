import { ABANDONED_CLAIM_MS, canonicalJson, classifyClaim, requestHash } from "../../services/orders/domain/idempotency";

describe("orders: Idempotency-Key rules", () => {
  it("hashes bodies independent of key order, but not of array order or values", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(requestHash({ addressId: 1, items: [{ skuId: 2, quantity: 1 }] })).toBe(requestHash({ items: [{ quantity: 1, skuId: 2 }], addressId: 1 }));
    expect(requestHash({ addressId: 1, remark: undefined })).toBe(requestHash({ addressId: 1 }));
    expect(requestHash({ addressId: 1, items: [{ skuId: 2, quantity: 1 }] })).not.toBe(requestHash({ addressId: 1, items: [{ skuId: 2, quantity: 2 }] }));
    expect(requestHash({ items: [1, 2] })).not.toBe(requestHash({ items: [2, 1] }));
  });

  it("classifies an existing claim", () => {
    const now = Date.now();
    const row = (over: object = {}) => ({ requestHash: "h", orderNo: null as string | null, createdAt: new Date(now - 1000), ...over });
    expect(classifyClaim(row(), "other", now)).toEqual({ kind: "conflict" });
    expect(classifyClaim(row({ orderNo: "X" }), "other", now)).toEqual({ kind: "conflict" });
    expect(classifyClaim(row({ orderNo: "X" }), "h", now)).toEqual({ kind: "done", orderNo: "X" });
    expect(classifyClaim(row(), "h", now)).toEqual({ kind: "wait" });
    expect(classifyClaim(row({ createdAt: new Date(now - ABANDONED_CLAIM_MS - 1) }), "h", now)).toEqual({ kind: "abandoned" });
  });
});
