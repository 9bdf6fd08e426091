/**
 * Idempotency-Key rules for POST /orders (pure parts). A key is scoped to its user; the request
 * it was first used with is remembered as a hash of the canonical JSON body, so the same key
 * with a different body is told apart from a retry.
 */
// one fingerprint for every Idempotency-Key in the shop (services/shared/idempotency.ts)
export { canonicalJson, requestHash } from "../../shared/idempotency";

/** How long a claimed key may stay without an order before another request may take it over. */
export const ABANDONED_CLAIM_MS = 60_000;
/** How long a concurrent duplicate waits for the first request to finish (below REQUEST_TIMEOUT, 10 s). */
export const DUPLICATE_WAIT_MS = 8_000;
/** Keys are remembered this long, then swept. */
export const KEY_RETENTION_MS = 24 * 3600_000;

export type ClaimState =
  | { kind: "conflict" }
  | { kind: "done"; orderNo: string }
  | { kind: "abandoned" }
  | { kind: "wait" };

/** What to do with an existing key row seen by a request with `hash` at `now`. */
export function classifyClaim(row: { requestHash: string; orderNo: string | null; createdAt: Date }, hash: string, now: number): ClaimState {
  if (row.requestHash !== hash) return { kind: "conflict" };
  if (row.orderNo) return { kind: "done", orderNo: row.orderNo };
  if (now - new Date(row.createdAt).getTime() > ABANDONED_CLAIM_MS) return { kind: "abandoned" };
  return { kind: "wait" };
}
