/**
 * Points rules, pure. Amounts of money are fen, points are whole points (one point = one fen at
 * checkout, FEN_PER_POINT).
 *
 * Refunds give back a share of what an order spent and take back the same share of what it
 * earned. The share of one refund is computed on the running total of refunds, so the shares of
 * several partial refunds add up exactly to what a single whole refund would give:
 *
 *   share(k) = floor(total × refundedAfter / payable) − floor(total × refundedBefore / payable)
 *
 * Each refund rounds down on its own total; the refund that completes the order squares the sum.
 */
import { POINTS_PER_YUAN } from "../marketing.contracts";

const FEN_PER_YUAN = 100;

/** Points earned for paying `payable` fen: POINTS_PER_YUAN per whole yuan. */
export function pointsEarned(payable: number): number {
  if (!Number.isSafeInteger(payable) || payable <= 0) return 0;
  return Math.floor(payable / FEN_PER_YUAN) * POINTS_PER_YUAN;
}

/**
 * The part of `total` points that belongs to a refund of `amount` fen, given `refundedBefore`
 * fen already refunded on an order that was paid `payable` fen. BigInt: points × fen may pass
 * 2^53 on large orders.
 */
export function refundShare(total: number, payable: number, refundedBefore: number, amount: number): number {
  if (total <= 0 || payable <= 0 || amount <= 0) return 0;
  const after = Math.min(refundedBefore + amount, payable);
  const at = (refunded: number) => (BigInt(total) * BigInt(refunded)) / BigInt(payable);
  return Number(at(after) - at(Math.max(0, refundedBefore)));
}

/**
 * Taking back earned points never makes the balance negative: what the buyer still has is taken,
 * the rest is a shortfall that is recorded and not collected later.
 */
export function takeBack(wanted: number, available: number): { taken: number; shortfall: number } {
  const taken = Math.max(0, Math.min(wanted, available));
  return { taken, shortfall: wanted - taken };
}
