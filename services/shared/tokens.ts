/**
 * Access tokens: short-lived HS256 JWTs carrying the user id, roles, session id (`sid`, one per
 * login — the refresh-token family), the user's session epoch (`ep`) and a unique `jti`.
 *
 * Two ways to stop access tokens before they expire, both checked by the gateway per request:
 * - one session: logging out (or any end of a session) writes `revoked:sid:<sid>` into the shared
 *   KV store for as long as an access token of that session could still be valid;
 * - every session of a user: bumping the user's epoch (disable, revoke-sessions, role change)
 *   writes `epoch:<userId>` = the new epoch, and tokens issued with a lower `ep` are refused.
 *   The gateway reads it through `EpochCache`, so a change reaches every gateway within
 *   SESSION_EPOCH_CACHE_MS (sooner when the broadcast `user.epoch.changed` arrives).
 * Both markers only need to outlive the access tokens they stop; refresh tokens are decided by
 * the session row in the database, never by a marker.
 */
import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import type { KvStore } from "./kv";

export interface AccessClaims {
  sub: string;
  roles: string[];
  sid: string;
  ep?: number;
  jti: string;
  iat: number;
  exp: number;
}

export interface AuthUser {
  id: number;
  roles: string[];
  sid: string;
  /** the user's session epoch when the token was issued */
  epoch: number;
  jti: string;
  exp: number;
}

export const ROLES = ["customer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/**
 * Sign an access token. Given the same `jti` and `issuedAt` (seconds) and the same user, the token
 * is byte-identical (HS256 is deterministic), which is how a refresh inside the grace window hands
 * back the very pair it handed out a moment before.
 */
export function signAccessToken(
  secret: string,
  ttlSec: number,
  user: { id: number; roles: string[]; epoch: number },
  sid: string,
  at: { jti: string; issuedAt: number } = { jti: crypto.randomUUID(), issuedAt: Math.floor(Date.now() / 1000) },
): { token: string; jti: string; exp: number } {
  const token = jwt.sign({ roles: user.roles, sid, ep: user.epoch, iat: at.issuedAt }, keyFor(secret), {
    algorithm: "HS256",
    expiresIn: ttlSec,
    subject: String(user.id),
    jwtid: at.jti,
    issuer: "mall",
  });
  return { token, jti: at.jti, exp: at.issuedAt + ttlSec };
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

/**
 * Verify signature, algorithm, issuer and expiry. Returns null for anything invalid, including a
 * validly signed token without `exp` (jsonwebtoken accepts those; a token must not live forever).
 */
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
    if (typeof c.exp !== "number" || !Number.isFinite(c.exp)) return null;
    // tokens from before epochs existed carry none: epoch 0, which any bump makes stale
    const epoch = c.ep === undefined ? 0 : c.ep;
    if (!Number.isSafeInteger(epoch) || epoch < 0) return null;
    const user: AuthUser = { id, roles: c.roles, sid: c.sid, epoch, jti: c.jti, exp: c.exp };
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

/**
 * Opaque refresh token: `<id>.<secret>`, where the secret is HMAC-SHA256(K, id) and K is derived
 * from JWT_SECRET (HKDF). Only a SHA-256 of the secret is stored, and verification compares that
 * hash, so a database leak yields no usable token. Deriving (rather than storing the secret
 * encrypted) lets a refresh inside the grace window re-issue the current token identically with
 * nothing reversible at rest; it adds no new exposure, because whoever holds JWT_SECRET can
 * already sign access tokens for anyone.
 */
export function refreshSecretFor(jwtSecret: string, tokenId: string): string {
  return crypto.createHmac("sha256", derivedKey(jwtSecret, "refresh-token v1")).update(tokenId).digest("base64url");
}
/** The access token issued with refresh token `tokenId` gets a jti derived from it (so it can be re-issued identically). */
export function accessJtiFor(jwtSecret: string, tokenId: string): string {
  const h = crypto.createHmac("sha256", derivedKey(jwtSecret, "access-jti v1")).update(tokenId).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
export function hashSecret(secret: string): string {
  return crypto.createHash("sha256").update(secret).digest("hex");
}

const derivedKeys = new Map<string, Buffer>();
function derivedKey(secret: string, purpose: string): Buffer {
  const id = `${purpose}\0${secret}`;
  let k = derivedKeys.get(id);
  if (!k) {
    k = Buffer.from(crypto.hkdfSync("sha256", secret, "mall", purpose, 32));
    derivedKeys.set(id, k);
  }
  return k;
}

export const epochKey = (userId: number) => `epoch:${userId}`;

/** Tell the gateways that tokens of `userId` issued before `epoch` are void (for as long as any could live). */
export async function publishEpoch(kv: KvStore, userId: number, epoch: number, accessTtlSec: number): Promise<void> {
  await kv.setMax(epochKey(userId), epoch, (accessTtlSec + 5) * 1000);
}

/**
 * The lowest epoch a user's access tokens must carry, as the gateway sees it: read from the KV
 * store and remembered for `ttlMs`, so a request costs no KV read for users seen recently. A
 * missing key means no bump within an access token's lifetime (every older token has expired).
 */
export class EpochCache {
  private entries = new Map<number, { min: number | null; until: number }>();
  constructor(
    private kv: () => KvStore,
    private ttlMs: number,
    private max = 50_000,
  ) {}

  async minimum(userId: number): Promise<number | null> {
    const hit = this.entries.get(userId);
    if (hit && hit.until > Date.now()) return hit.min;
    const raw = await this.kv().get(epochKey(userId));
    const min = raw === null ? null : Number(raw);
    this.remember(userId, min);
    return min;
  }

  /** A bump heard about directly (broadcast): apply it now instead of after the cache expires. */
  raise(userId: number, epoch: number): void {
    const hit = this.entries.get(userId);
    if (hit && hit.until > Date.now() && hit.min !== null && hit.min >= epoch) return;
    this.remember(userId, epoch);
  }

  private remember(userId: number, min: number | null) {
    if (this.entries.size >= this.max && !this.entries.has(userId)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(userId, { min, until: Date.now() + this.ttlMs });
  }
}
