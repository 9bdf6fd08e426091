import { pointsEarned, refundShare, takeBack } from "../../services/marketing/domain/points";

/** A small deterministic PRNG, so a failing case can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** `payable` cut into `parts` positive pieces. */
function partition(next: (n: number) => number, payable: number, parts: number): number[] {
  const cuts = new Set<number>();
  while (cuts.size < Math.min(parts, payable) - 1) cuts.add(1 + next(payable - 1));
  const sorted = [0, ...[...cuts].sort((a, b) => a - b), payable];
  return sorted.slice(1).map((c, i) => c - sorted[i]);
}

describe("marketing: points rules", () => {
  it("earns one point per whole yuan paid", () => {
    expect(pointsEarned(0)).toBe(0);
    expect(pointsEarned(99)).toBe(0);
    expect(pointsEarned(100)).toBe(1);
    expect(pointsEarned(12_345)).toBe(123);
    expect(pointsEarned(-500)).toBe(0);
  });

  it("a refund's share rounds down on the running total", () => {
    // 101 points spent on 2.00 yuan, refunded in two halves: 50 then 51 (not 50 + 50)
    expect(refundShare(101, 200, 0, 100)).toBe(50);
    expect(refundShare(101, 200, 100, 100)).toBe(51);
    // a whole refund gives everything back
    expect(refundShare(300, 20_000, 0, 20_000)).toBe(300);
    expect(refundShare(0, 20_000, 0, 20_000)).toBe(0);
    // never more than what is left, even if the amount overshoots
    expect(refundShare(300, 20_000, 15_000, 9_000)).toBe(75);
  });

  it("partial refunds in any split add up to the whole, each share at least 0 (property, 2000 random orders)", () => {
    const next = rng(20261202);
    for (let i = 0; i < 2000; i++) {
      const payable = 1 + next(5_000_000);
      const total = next(1_000_000);
      const parts = partition(next, payable, 1 + next(8));
      let before = 0;
      let sum = 0;
      for (const amount of parts) {
        const share = refundShare(total, payable, before, amount);
        expect(share).toBeGreaterThanOrEqual(0);
        // rounded down: never more than the exact proportion of what has been refunded so far
        expect((sum + share) * payable).toBeLessThanOrEqual(total * (before + amount));
        sum += share;
        before += amount;
      }
      expect(sum).toBe(total);
    }
  });

  it("stays exact where points × fen passes 2^53", () => {
    const total = 900_000_000;
    const payable = 90_000_000_000;
    expect(refundShare(total, payable, 0, payable / 3)).toBe(300_000_000);
    expect(refundShare(total, payable, 1, payable - 1)).toBe(total);
  });

  it("takes back only what is there; the rest is a shortfall", () => {
    expect(takeBack(150, 1000)).toEqual({ taken: 150, shortfall: 0 });
    expect(takeBack(150, 100)).toEqual({ taken: 100, shortfall: 50 });
    expect(takeBack(150, 0)).toEqual({ taken: 0, shortfall: 150 });
  });
});
