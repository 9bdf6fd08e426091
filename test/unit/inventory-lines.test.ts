import { LineError, MAX_LINE_QUANTITY, mergeLines, sameLines } from "../../services/inventory/domain/lines";

describe("inventory: mergeLines", () => {
  it("merges lines for the same SKU and orders them by ascending skuId", () => {
    expect(
      mergeLines([
        { skuId: 30, quantity: 1 },
        { skuId: 7, quantity: 2 },
        { skuId: 30, quantity: 4 },
        { skuId: 12, quantity: 1 },
      ]),
    ).toEqual([
      { skuId: 7, quantity: 2 },
      { skuId: 12, quantity: 1 },
      { skuId: 30, quantity: 5 },
    ]);
  });

  it("sorts numerically, not as strings", () => {
    expect(mergeLines([{ skuId: 10, quantity: 1 }, { skuId: 9, quantity: 1 }, { skuId: 100, quantity: 1 }]).map((l) => l.skuId)).toEqual([9, 10, 100]);
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity])("rejects quantity %p", (quantity) => {
    expect(() => mergeLines([{ skuId: 1, quantity }])).toThrow(LineError);
  });

  it.each([0, -3, 2.5])("rejects skuId %p", (skuId) => {
    expect(() => mergeLines([{ skuId, quantity: 1 }])).toThrow(LineError);
  });

  it("caps the merged quantity of one SKU", () => {
    expect(() => mergeLines([{ skuId: 1, quantity: MAX_LINE_QUANTITY }])).not.toThrow();
    expect(() => mergeLines([{ skuId: 1, quantity: MAX_LINE_QUANTITY }, { skuId: 1, quantity: 1 }])).toThrow(/at most/);
  });

  it("does not modify its input", () => {
    const input = [{ skuId: 2, quantity: 1 }, { skuId: 1, quantity: 1 }];
    mergeLines(input);
    expect(input).toEqual([{ skuId: 2, quantity: 1 }, { skuId: 1, quantity: 1 }]);
  });

  it("sameLines compares merged requests", () => {
    expect(sameLines([{ skuId: 1, quantity: 1 }, { skuId: 1, quantity: 2 }], [{ skuId: 1, quantity: 3 }])).toBe(true);
    expect(sameLines([{ skuId: 2, quantity: 1 }, { skuId: 1, quantity: 1 }], [{ skuId: 1, quantity: 1 }, { skuId: 2, quantity: 1 }])).toBe(true);
    expect(sameLines([{ skuId: 1, quantity: 1 }], [{ skuId: 1, quantity: 2 }])).toBe(false);
    expect(sameLines([{ skuId: 1, quantity: 1 }], [{ skuId: 1, quantity: 1 }, { skuId: 2, quantity: 1 }])).toBe(false);
  });
});
