/**
 * Promotion rules, pure: which tiers make sense and which promotions run at a given moment.
 *
 * FULL_REDUCTION (满减): tiers `{threshold, off}` — spend `threshold` (fen) in scope, get `off`
 * off; DISCOUNT: tiers `{threshold, rateBp}` — spend `threshold`, pay `rateBp` / 10000. The
 * highest threshold reached applies, so tiers must ascend by threshold and each higher tier must
 * be worth more to the buyer than the one below (otherwise spending more would cost more).
 */
import type { PromotionRule, PromotionType } from "../marketing.contracts";
import { BP_WHOLE, Violation, windowViolation } from "./coupon-rules";

/** Tiers as the params validator lets them through: the type decides which amount is required. */
export interface TierInput {
  threshold: number;
  off?: number;
  rateBp?: number;
}

export interface PromotionTerms {
  type: PromotionType;
  rules: TierInput[];
  startAt: Date;
  endAt: Date;
}

const invalid = (index: number, message: string): Violation => ({ type: "PROMOTION_RULES_INVALID", field: `rules[${index}]`, message });

function tierViolation(type: PromotionType, tier: TierInput, i: number): Violation | null {
  if (type === "FULL_REDUCTION") {
    if (tier.off === undefined || tier.rateBp !== undefined) return invalid(i, "a FULL_REDUCTION tier is {threshold, off}");
    if (tier.off < 1 || tier.off >= tier.threshold) return invalid(i, `off (${tier.off}) must be at least 1 and below the threshold (${tier.threshold})`);
    return null;
  }
  if (tier.rateBp === undefined || tier.off !== undefined) return invalid(i, "a DISCOUNT tier is {threshold, rateBp}");
  if (tier.rateBp < 1 || tier.rateBp >= BP_WHOLE) return invalid(i, `rateBp (${tier.rateBp}) is the share paid: 1..${BP_WHOLE - 1} (9000 = pay 90 %)`);
  return null;
}

/** What is wrong with these terms, or null. */
export function promotionViolation(p: PromotionTerms): Violation | null {
  const window = windowViolation(p.startAt, p.endAt, ["startAt", "endAt"]);
  if (window) return window;
  for (const [i, tier] of p.rules.entries()) {
    const bad = tierViolation(p.type, tier, i);
    if (bad) return bad;
    if (i === 0) continue;
    const prev = p.rules[i - 1];
    if (tier.threshold <= prev.threshold) return invalid(i, `thresholds must ascend: ${tier.threshold} follows ${prev.threshold}`);
    const better = p.type === "FULL_REDUCTION" ? tier.off! > prev.off! : tier.rateBp! < prev.rateBp!;
    if (!better) return invalid(i, "a higher tier must give more off than the tier below it");
  }
  return null;
}

/** The tiers as stored and answered, with only the fields of the promotion's type. */
export function cleanRules(type: PromotionType, rules: TierInput[]): PromotionRule[] {
  return rules.map((r) => (type === "FULL_REDUCTION" ? { threshold: r.threshold, off: r.off! } : { threshold: r.threshold, rateBp: r.rateBp! }));
}

export interface Running {
  enabled: boolean;
  startAt: Date;
  endAt: Date;
}

export function isRunning(p: Running, now: Date): boolean {
  return p.enabled && p.startAt <= now && now < p.endAt;
}
