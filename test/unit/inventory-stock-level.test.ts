import { crossedBelow, isLow, toLevel } from "../../services/inventory/domain/stock-level";

describe("inventory: low-stock rule", () => {
  it("fires only when available goes from above the threshold to at-or-below it", () => {
    expect(crossedBelow(11, 10, 10)).toBe(true); // lands exactly on the threshold
    expect(crossedBelow(15, 3, 10)).toBe(true); // jumps through it
    expect(crossedBelow(10, 9, 10)).toBe(false); // was already low
    expect(crossedBelow(20, 11, 10)).toBe(false); // still above
    expect(crossedBelow(9, 12, 10)).toBe(false); // going up
    expect(crossedBelow(1, 0, 0)).toBe(true); // threshold 0: sold out
    expect(crossedBelow(0, 0, 0)).toBe(false);
  });

  it("a restock above the threshold re-arms the alert", () => {
    const threshold = 5;
    let available = 6;
    const fired: number[] = [];
    for (const change of [-1, -1, +10, -12]) {
      const before = available;
      available += change;
      if (crossedBelow(before, available, threshold)) fired.push(available);
    }
    expect(fired).toEqual([5, 2]);
  });

  it("toLevel derives available and coerces driver strings to numbers", () => {
    expect(toLevel({ skuId: "7" as unknown as number, onHand: "10" as unknown as number, reserved: 4, lowStockThreshold: 2 })).toEqual({
      skuId: 7,
      onHand: 10,
      reserved: 4,
      available: 6,
      lowStockThreshold: 2,
    });
  });

  it("isLow includes the threshold itself", () => {
    expect(isLow({ available: 5, lowStockThreshold: 5 })).toBe(true);
    expect(isLow({ available: 6, lowStockThreshold: 5 })).toBe(false);
  });
});
