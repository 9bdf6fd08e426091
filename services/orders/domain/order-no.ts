/**
 * Order numbers: `yyyyMMddHHmmss` (UTC) followed by 10 random Crockford base32 characters
 * (50 bits). They sort by creation time to the second, are unique across nodes without
 * coordination (the database's unique key catches the 1-in-2^50 collision), and the next number
 * cannot be guessed from the last one.
 */
import crypto from "node:crypto";

export const ORDER_NO_RANDOM_CHARS = 10;
export const ORDER_NO_LENGTH = 14 + ORDER_NO_RANDOM_CHARS;
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford: no I, L, O, U
export const ORDER_NO_RE = new RegExp(`^\\d{14}[${ALPHABET}]{${ORDER_NO_RANDOM_CHARS}}$`);

function pad(n: number, w = 2) {
  return String(n).padStart(w, "0");
}

/** Base32 of the low 5 bits of each byte (32 divides 256, so every symbol is equally likely). */
export function base32(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += ALPHABET[b & 31];
  return s;
}

export function newOrderNo(now: Date = new Date(), random: (n: number) => Uint8Array = crypto.randomBytes): string {
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return stamp + base32(random(ORDER_NO_RANDOM_CHARS));
}

export function isOrderNo(s: unknown): s is string {
  return typeof s === "string" && ORDER_NO_RE.test(s);
}
