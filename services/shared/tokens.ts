/**
 * Access tokens: short-lived HS256 JWTs carrying the user id, roles, session id (`sid`, one per
 * login — the refresh-token family) and a unique `jti`. Revocation is by session: logging out or
 * changing the password writes `revoked:sid:<sid>` into the shared KV store for as long as any
 * access token of that session could still be valid, and the gateway checks it on every request.
 */
import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import type { KvStore } from "./kv";

export interface AccessClaims {
  sub: string;
  roles: string[];
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface AuthUser {
  id: number;
  roles: string[];
  sid: string;
  jti: string;
  exp: number;
}

export const ROLES = ["customer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function signAccessToken(secret: string, ttlSec: number, user: { id: number; roles: string[] }, sid: string): { token: string; jti: string; exp: number } {
  const jti = crypto.randomUUID();
  const token = jwt.sign({ roles: user.roles, sid }, keyFor(secret), {
    algorithm: "HS256",
    expiresIn: ttlSec,
    subject: String(user.id),
    jwtid: jti,
    issuer: "mall",
  });
  return { token, jti, exp: Math.floor(Date.now() / 1000) + ttlSec };
}

// jsonwebtoken turns a string secret into a KeyObject on every call (trying a public key first,
// which throws): on the hot path that was a fifth of the gateway's CPU. Build it once per secret.
const keys = new Map<string, crypto.KeyObject>();
function keyFor(secret: string): crypto.KeyObject {
  let k = keys.get(secret);
  if (!k) {
    k = crypto.createSecretKey(Buffer.from(secret, "utf8"));
    keys.set(secret, k);
  }
  return k;
}

/**
 * Tokens already verified, until they expire. Verification is a pure function of the token and
 * the secret, so remembering the result is safe; revocation is checked separately every time.
 */
const verifiedBySecret = new Map<string, Map<string, AuthUser>>();
const VERIFIED_MAX = 20_000;

/** Verify signature, algorithm, issuer and expiry. Returns null for anything invalid. */
export function verifyAccessToken(secret: string, token: string): AuthUser | null {
  let verified = verifiedBySecret.get(secret);
  if (!verified) verifiedBySecret.set(secret, (verified = new Map()));
  const hit = verified.get(token);
  if (hit) {
    if (hit.exp * 1000 > Date.now()) return hit;
    verified.delete(token);
    return null;
  }
  try {
    const c = jwt.verify(token, keyFor(secret), { algorithms: ["HS256"], issuer: "mall" }) as AccessClaims;
    const id = Number(c.sub);
    if (!Number.isSafeInteger(id) || !Array.isArray(c.roles) || typeof c.sid !== "string" || typeof c.jti !== "string") return null;
    const user: AuthUser = { id, roles: c.roles, sid: c.sid, jti: c.jti, exp: c.exp };
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, user);
    return user;
  } catch {
    return null;
  }
}

export const revokedSessionKey = (sid: string) => `revoked:sid:${sid}`;

export async function isSessionRevoked(kv: KvStore, sid: string): Promise<boolean> {
  return (await kv.get(revokedSessionKey(sid))) !== null;
}

/** Mark sessions revoked for as long as their access tokens could live. */
export async function revokeSessions(kv: KvStore, sids: string[], accessTtlSec: number): Promise<void> {
  await Promise.all(sids.map((sid) => kv.set(revokedSessionKey(sid), "1", (accessTtlSec + 5) * 1000)));
}

/** Opaque refresh token: `<id>.<secret>`; only a SHA-256 of the secret is stored. */
export function newRefreshSecret(): string {
  return crypto.randomBytes(32).toString("base64url");
}
export function hashSecret(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("hex");
}
