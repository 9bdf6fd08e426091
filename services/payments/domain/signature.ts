/**
 * The sandbox provider's callback format and its signature — pure, unit tested.
 *
 * Wire format: the body is compact JSON with the keys in the fixed order of `CALLBACK_KEYS`, and
 * the header `X-Sandbox-Signature` carries `hex(HMAC-SHA256(SANDBOX_SECRET, rawBody))` over the
 * exact bytes sent. The receiver verifies over the bytes it received (never over a re-serialised
 * object), with a constant-time compare, before it reads anything else from the body.
 */
import crypto from "node:crypto";
import type { SandboxCallback } from "../payments.contracts";

export const SIGNATURE_HEADER = "x-sandbox-signature";
/** A callback older or newer than this (by its `timestamp`) is refused. */
export const MAX_CLOCK_SKEW_MS = 10 * 60 * 1000;

export const CALLBACK_KEYS = ["paymentNo", "providerTxnId", "amount", "currency", "result", "timestamp", "nonce"] as const;

/** Compact JSON, keys in CALLBACK_KEYS order: what the sandbox sends and signs. */
export function canonicalBody(cb: SandboxCallback): string {
  const ordered: Record<string, unknown> = {};
  for (const k of CALLBACK_KEYS) ordered[k] = cb[k];
  return JSON.stringify(ordered);
}

export function sign(secret: string, rawBody: string | Buffer): string {
  return crypto.createHmac("sha256", secret).update(rawBody).digest("hex");
}

/** Constant-time check of a hex signature over the raw body. Any malformed input is simply false. */
export function verifySignature(secret: string, rawBody: string | Buffer, signature: unknown): boolean {
  if (typeof signature !== "string" || !/^[0-9a-fA-F]{64}$/.test(signature.trim())) return false;
  const expected = Buffer.from(sign(secret, rawBody), "hex");
  const given = Buffer.from(signature.trim(), "hex");
  return given.length === expected.length && crypto.timingSafeEqual(expected, given);
}

export class CallbackFormatError extends Error {}

const ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const CURRENCY_RE = /^[A-Z]{3}$/;

/**
 * Parse a (signature-verified) callback body. Throws CallbackFormatError naming the first bad
 * field; unknown fields are refused too (a provider changing its format is something to notice).
 */
export function parseCallback(rawBody: string): SandboxCallback {
  let v: unknown;
  try {
    v = JSON.parse(rawBody);
  } catch {
    throw new CallbackFormatError("body is not JSON");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new CallbackFormatError("body is not an object");
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(CALLBACK_KEYS as readonly string[]).includes(k));
  if (unknown.length) throw new CallbackFormatError(`unknown field(s): ${unknown.join(", ")}`);
  const str = (k: string, re: RegExp) => {
    if (typeof o[k] !== "string" || !re.test(o[k] as string)) throw new CallbackFormatError(`${k} is missing or malformed`);
    return o[k] as string;
  };
  const amount = o.amount;
  if (typeof amount !== "number" || !Number.isSafeInteger(amount) || amount <= 0) throw new CallbackFormatError("amount must be a positive integer");
  const result = o.result;
  if (result !== "SUCCESS" && result !== "FAIL") throw new CallbackFormatError("result must be SUCCESS or FAIL");
  const timestamp = str("timestamp", /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z$/);
  if (Number.isNaN(Date.parse(timestamp))) throw new CallbackFormatError("timestamp is not a date");
  return {
    paymentNo: str("paymentNo", ID_RE),
    providerTxnId: str("providerTxnId", ID_RE),
    amount,
    currency: str("currency", CURRENCY_RE),
    result,
    timestamp,
    nonce: str("nonce", ID_RE),
  };
}

/** Is the callback's timestamp within ±MAX_CLOCK_SKEW_MS of now? */
export function isFresh(timestamp: string, now: number, maxSkewMs = MAX_CLOCK_SKEW_MS): boolean {
  const t = Date.parse(timestamp);
  return Number.isFinite(t) && Math.abs(now - t) <= maxSkewMs;
}
