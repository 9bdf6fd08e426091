import { ORDER_NO_LENGTH, base32, isOrderNo, newOrderNo } from "../../services/orders/domain/order-no";

describe("orders: order numbers", () => {
  it("start with the UTC time and end with 10 base32 characters", () => {
    const no = newOrderNo(new Date("2026-11-21T05:03:09.123Z"), (n) => new Uint8Array(n).fill(31));
    expect(no).toBe("20261121050309" + "ZZZZZZZZZZ");
    expect(no).toHaveLength(ORDER_NO_LENGTH);
    expect(isOrderNo(no)).toBe(true);
    expect(isOrderNo("20261121050309ZZZZZZZZZI")).toBe(false); // I is not in the alphabet
    expect(isOrderNo("2026112105030")).toBe(false);
  });

  it("sort by creation time", () => {
    const a = newOrderNo(new Date("2026-01-31T23:59:59Z"));
    const b = newOrderNo(new Date("2026-02-01T00:00:00Z"));
    const c = newOrderNo(new Date("2026-02-01T00:00:01Z"));
    expect([c, a, b].sort()).toEqual([a, b, c]);
  });

  it("are unique and not predictable within one second", () => {
    const now = new Date();
    const many = Array.from({ length: 20_000 }, () => newOrderNo(now));
    expect(new Set(many).size).toBe(many.length);
    // the random part is not a counter: consecutive numbers differ in most positions, not one
    const tails = many.slice(0, 1000).map((n) => n.slice(14));
    let differing = 0;
    for (let i = 1; i < tails.length; i++) for (let j = 0; j < 10; j++) if (tails[i][j] !== tails[i - 1][j]) differing++;
    expect(differing / (tails.length - 1)).toBeGreaterThan(8);
  });

  it("uses every symbol of the alphabet equally for uniform bytes", () => {
    const all = base32(Uint8Array.from({ length: 256 }, (_, i) => i));
    const counts = new Map<string, number>();
    for (const ch of all) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(32);
    expect([...counts.values()].every((n) => n === 8)).toBe(true);
  });
});
