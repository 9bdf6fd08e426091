/**
 * Idempotency-Key rules (pure parts; the moleculer middleware that applies them to actions
 * declaring `idempotent: true` is mixins/idempotency.middleware.ts).
 *
 * A key belongs to (action, user, key). Its record is either a claim held by the request that is
 * running ("pending", with a random token so only its holder can finish or release it) or the
 * first answer ("done": status, body and response headers). The request is remembered as a hash
 * of its canonical JSON params, so the same key with a different request is told apart from a
 * retry.
 */
import crypto from "node:crypto";

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

export function requestHash(body: unknown): string {
  return crypto.createHash("sha256").update(canonicalJson(body)).digest("hex");
}

/** How long a first answer is replayed (Stripe's window). */
export const KEY_TTL_MS = 24 * 3600_000;
/**
 * How long a claim lives without an answer. A holder that crashed frees the key when it lapses;
 * it must outlast any real handler run, which can go on after the caller's timeout.
 */
export const CLAIM_LEASE_MS = 60_000;

/** How long a concurrent duplicate waits for the first request: inside the caller's timeout. */
export function duplicateWaitMs(requestTimeoutMs: number): number {
  return requestTimeoutMs > 0 ? Math.min(8_000, Math.floor(requestTimeoutMs * 0.8)) : 8_000;
}

export function recordKey(action: string, userId: number | string | undefined | null, key: string): string {
  return `idem:${action}:${userId ?? "anon"}:${key}`;
}

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** a 201's Location */
  location?: string;
}

type Pending = { state: "pending"; hash: string; token: string };
type Done = { state: "done"; hash: string } & Answer;

export function pendingRecord(hash: string, token: string): string {
  return JSON.stringify({ state: "pending", hash, token } satisfies Pending);
}

export function doneRecord(hash: string, answer: Answer): string {
  return JSON.stringify({ state: "done", hash, ...answer } satisfies Done);
}

export type Verdict =
  | { kind: "claimable" }
  | { kind: "conflict" }
  | { kind: "replay"; answer: Answer }
  | { kind: "wait" };

/** What a request with `hash` does about the record it found under its key. */
export function classify(raw: string | null, hash: string): Verdict {
  if (raw === null) return { kind: "claimable" };
  const rec = JSON.parse(raw) as Pending | Done;
  if (rec.hash !== hash) return { kind: "conflict" };
  if (rec.state === "done") {
    return { kind: "replay", answer: { status: rec.status, body: rec.body, ...(rec.headers ? { headers: rec.headers } : {}), ...(rec.location ? { location: rec.location } : {}) } };
  }
  return { kind: "wait" };
}

/** The response headers of a replay: the first answer's, marked as replayed. */
export function replayHeaders(answer: Answer): Record<string, string> {
  return { ...(answer.headers ?? {}), "Idempotent-Replayed": "true" };
}
