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
  const token = jwt.sign({ roles: user.roles, sid }, secret, {
    algorithm: "HS256",
    expiresIn: ttlSec,
    subject: String(user.id),
    jwtid: jti,
    issuer: "mall",
  });
  return { token, jti, exp: Math.floor(Date.now() / 1000) + ttlSec };
}

/** Verify signature, algorithm, issuer and expiry. Returns null for anything invalid. */
export function verifyAccessToken(secret: string, token: string): AuthUser | null {
  try {
    const c = jwt.verify(token, secret, { algorithms: ["HS256"], issuer: "mall" }) as AccessClaims;
    const id = Number(c.sub);
    if (!Number.isSafeInteger(id) || !Array.isArray(c.roles) || typeof c.sid !== "string" || typeof c.jti !== "string") return null;
    return { id, roles: c.roles, sid: c.sid, jti: c.jti, exp: c.exp };
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
