/**
 * Sessions: login (with its throttle), refresh, logout, password change, ending sessions and the
 * per-user session epoch.
 *
 * A session (one login) is a row in `sessions`; its refresh tokens form a chain in which only the
 * current one rotates. Every decision about a session is one conditional UPDATE of that row:
 * - rotation: `… WHERE id = ? AND status = 'ACTIVE' AND current_token_id = <presented>`, one winner;
 * - logout, reuse detection, revocation: `SET status = 'REVOKED' WHERE id = ? AND status = 'ACTIVE'`.
 * Whatever the interleaving, a revoked session has no token that refreshes and an active one has
 * exactly one current token. The token rotated just before the current one, presented again
 * within REFRESH_REUSE_GRACE_SEC, gets the current pair back (two tabs refreshing at once stay
 * logged in); any other rotated token coming back revokes the session.
 */
import crypto from "node:crypto";
import { hash as argonHash, verify as argonVerify } from "@node-rs/argon2";
import { Op, Sequelize, Transaction } from "sequelize";
import type { SessionAttrs } from "../../models/users";
import { bizError } from "../shared/errors";
import { AuthUser, accessJtiFor, hashSecret, publishEpoch, refreshSecretFor, revokeSessions as markRevoked, signAccessToken } from "../shared/tokens";
import { publicUser, rolesOf } from "./account-store";
import { loginKind, normaliseEmail, normaliseUsername, parseRefreshToken } from "./domain/accounts";
import { clientVerdict, subjectVerdict } from "./domain/login-throttle";
import type { UsersHost } from "./host";
import { SESSION_EPOCH_CHANGED, SessionEpochChanged } from "./users.contracts";
import { wholeSecond } from "../shared/db";

interface TokenUser {
  id: number;
  roles: string[];
  epoch: number;
}

// A real hash to verify against when the user does not exist, so timing does not reveal it.
let DUMMY_HASH: Promise<string> | null = null;
const dummyHash = () => (DUMMY_HASH ??= argonHash("dummy-password-for-timing"));

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function tooManyAttempts(msLeft: number) {
  return bizError("LOGIN_RATE_LIMITED", undefined, { retryAfter: Math.max(1, Math.ceil(msLeft / 1000)) });
}

export async function login(host: UsersHost, p: { username: string; password: string }, client: string) {
  const { loginLimit: limit, loginWindowMs: windowMs } = host.cfg.rateLimit;
  const clientKey = `login:fail:client:${client}`;
  const [clientFailures, clientLeft] = await host.kv.peek(clientKey);
  if (clientVerdict(clientFailures, limit) !== "allowed") throw tooManyAttempts(clientLeft);

  const typed = p.username.trim();
  const kind = loginKind(typed);
  const user = await host.models.User.findOne({ where: kind === "email" ? { email: normaliseEmail(typed) } : { usernameNorm: normaliseUsername(typed) } });
  // username and email of one account share its counters; unknown text is counted as typed
  const subject = user ? `u:${user.id}` : `t:${crypto.createHash("sha256").update(`${kind}:${typed.toLowerCase()}`).digest("hex").slice(0, 32)}`;
  const pairKey = `login:try:${subject}:${client}`;
  const subjectKey = `login:fail:${subject}`;
  const [[pairAttempts, pairLeft], [subjectFailures]] = await Promise.all([host.kv.incr(pairKey, windowMs), host.kv.peek(subjectKey)]);
  if (subjectVerdict(pairAttempts, subjectFailures, limit) !== "allowed") throw tooManyAttempts(pairLeft);

  const ok = user
    ? await argonVerify(user.passwordHash, p.password).catch(() => false)
    : await argonVerify(await dummyHash(), p.password).then(() => false);
  if (!user || !ok) {
    await Promise.all([host.kv.incr(subjectKey, windowMs), host.kv.incr(clientKey, windowMs)]);
    throw bizError("INVALID_CREDENTIALS");
  }
  await host.kv.del(pairKey);
  // only someone who knows the password learns that the account is disabled
  if (user.status !== "ACTIVE") throw bizError("ACCOUNT_DISABLED");
  // the epoch was read (with the user) before the roles: see tokenUser
  const tu = { id: Number(user.id), epoch: Number(user.sessionEpoch), roles: await rolesOf(host, user.id) };
  return { ...(await openSession(host, tu)), user: await publicUser(host, user.id) };
}

export async function refresh(host: UsersHost, presented: string) {
  const parsed = parseRefreshToken(presented);
  if (!parsed) throw bizError("TOKEN_INVALID");
  const token = await host.models.RefreshToken.findByPk(parsed.id);
  if (!token || !sameHash(token.tokenHash, hashSecret(parsed.secret))) throw bizError("TOKEN_INVALID");
  const session = await host.models.Session.findByPk(token.familyId);
  if (!session) throw bizError("TOKEN_INVALID");
  if (session.status !== "ACTIVE") throw bizError("TOKEN_REVOKED");
  const user = await tokenUser(host, Number(session.userId));
  if (!user) {
    await revokeSession(host, session.id, "ACCOUNT_DISABLED");
    throw bizError("TOKEN_REVOKED");
  }
  if (token.id !== session.currentTokenId) return notCurrent(host, session, token.id, user);
  if (new Date(session.expiresAt).getTime() <= Date.now()) throw bizError("TOKEN_INVALID", "refresh token has expired");
  const next = await rotate(host, session, token.id, user);
  if (next) return next;
  // another refresh of this very token won a moment ago: ours is its late twin
  return notCurrent(host, (await host.models.Session.findByPk(session.id))!, token.id, user);
}

export async function logout(host: UsersHost, me: AuthUser) {
  await revokeSession(host, me.sid, "LOGOUT");
  return { loggedOut: true };
}

export async function changePassword(host: UsersHost, me: AuthUser, oldPassword: string, newPassword: string) {
  const user = await host.models.User.findByPk(me.id);
  if (!user) throw bizError("USER_NOT_FOUND");
  if (!(await argonVerify(user.passwordHash, oldPassword).catch(() => false))) throw bizError("INVALID_CREDENTIALS", "old password is wrong");
  const passwordHash = await argonHash(newPassword);
  const ended = await host.tx(async (t) => {
    await host.models.User.update({ passwordHash }, { where: { id: me.id }, transaction: t });
    return endUserSessions(host, me.id, "PASSWORD_CHANGED", t, me.sid);
  });
  await markRevoked(host.kv, ended, host.cfg.accessTokenTtlSec);
  return { changed: true, revokedSessions: ended.length };
}

/**
 * The user as tokens see them, or null when they cannot hold a session (gone, or not ACTIVE).
 * The epoch is read before the roles: a role change commits new roles and a new epoch together,
 * so roles read after the epoch are never older than it (a token with old roles and the new epoch
 * would outlive the change).
 */
async function tokenUser(host: UsersHost, id: number): Promise<TokenUser | null> {
  const u = await host.models.User.findByPk(id, { attributes: ["id", "status", "sessionEpoch"] });
  if (!u || u.status !== "ACTIVE") return null;
  return { id: Number(u.id), epoch: Number(u.sessionEpoch), roles: await rolesOf(host, u.id) };
}

/** The pair of a session's token `tokenId`: derived, so the same inputs give the same pair. */
function tokenPair(host: UsersHost, user: TokenUser, sid: string, tokenId: string, issuedAt: Date, now = Date.now()) {
  const { jwtSecret, accessTokenTtlSec } = host.cfg;
  const access = signAccessToken(jwtSecret, accessTokenTtlSec, user, sid, {
    jti: accessJtiFor(jwtSecret, tokenId),
    issuedAt: Math.floor(issuedAt.getTime() / 1000),
  });
  return {
    accessToken: access.token,
    refreshToken: `${tokenId}.${refreshSecretFor(jwtSecret, tokenId)}`,
    tokenType: "Bearer",
    expiresIn: access.exp - Math.floor(now / 1000),
  };
}

async function recordToken(host: UsersHost, tokenId: string, sid: string, userId: number, expiresAt: Date, t: Transaction) {
  const tokenHash = hashSecret(refreshSecretFor(host.cfg.jwtSecret, tokenId));
  await host.models.RefreshToken.create({ id: tokenId, familyId: sid, userId, tokenHash, status: "ISSUED", expiresAt }, { transaction: t });
}

async function openSession(host: UsersHost, user: TokenUser) {
  const now = Date.now();
  const sid = crypto.randomUUID();
  const tokenId = crypto.randomUUID();
  const issuedAt = wholeSecond(now);
  const expiresAt = new Date(issuedAt.getTime() + host.cfg.refreshTokenTtlSec * 1000);
  await host.tx(async (t) => {
    await host.models.Session.create(
      { id: sid, userId: user.id, status: "ACTIVE", generation: 0, currentTokenId: tokenId, currentIssuedAt: issuedAt, previousTokenId: null, expiresAt },
      { transaction: t },
    );
    await recordToken(host, tokenId, sid, user.id, expiresAt, t);
  });
  return tokenPair(host, user, sid, tokenId, issuedAt, now);
}

/** Compare-and-set the session from `fromTokenId` to a new token; null when another call got there first. */
async function rotate(host: UsersHost, session: SessionAttrs, fromTokenId: string, user: TokenUser) {
  const now = Date.now();
  const tokenId = crypto.randomUUID();
  const issuedAt = wholeSecond(now);
  const expiresAt = new Date(issuedAt.getTime() + host.cfg.refreshTokenTtlSec * 1000);
  const won = await host.tx(async (t) => {
    const [changed] = await host.models.Session.update(
      { currentTokenId: tokenId, previousTokenId: fromTokenId, currentIssuedAt: issuedAt, expiresAt, generation: Sequelize.literal("generation + 1") },
      { where: { id: session.id, status: "ACTIVE", currentTokenId: fromTokenId }, transaction: t },
    );
    if (changed !== 1) return false;
    await recordToken(host, tokenId, session.id, user.id, expiresAt, t);
    return true;
  });
  return won ? tokenPair(host, user, session.id, tokenId, issuedAt, now) : null;
}

/** A token of the session that is not its current one: the late twin of a rotation, or a replay. */
async function notCurrent(host: UsersHost, session: SessionAttrs, tokenId: string, user: TokenUser) {
  if (session.status !== "ACTIVE") throw bizError("TOKEN_REVOKED");
  const issuedAt = new Date(session.currentIssuedAt);
  if (session.previousTokenId === tokenId && Date.now() - issuedAt.getTime() < host.cfg.refreshReuseGraceSec * 1000) {
    return tokenPair(host, user, session.id, session.currentTokenId, issuedAt);
  }
  await revokeSession(host, session.id, "REFRESH_REUSED");
  throw bizError("TOKEN_REVOKED", "refresh token was already used; the session has been revoked");
}

export async function revokeSession(host: UsersHost, sid: string, reason: string) {
  await host.models.Session.update({ status: "REVOKED", revokedAt: new Date(), revokeReason: reason }, { where: { id: sid, status: "ACTIVE" } });
  // the caller's own access token may belong to a session that had already ended: mark it anyway
  await markRevoked(host.kv, [sid], host.cfg.accessTokenTtlSec);
}

/**
 * Inside `t`: revoke the user's active sessions (but `exceptSid`). Returns their ids, whose access
 * tokens the caller marks revoked once `t` has committed.
 */
export async function endUserSessions(host: UsersHost, userId: number, reason: string, t: Transaction, exceptSid?: string): Promise<string[]> {
  const where = { userId, status: "ACTIVE", ...(exceptSid ? { id: { [Op.ne]: exceptSid } } : {}) };
  const rows = await host.models.Session.findAll({ attributes: ["id"], where, transaction: t });
  await host.models.Session.update({ status: "REVOKED", revokedAt: new Date(), revokeReason: reason }, { where, transaction: t });
  return rows.map((r) => r.id);
}

/** Inside `t`: the user's next session epoch. Access tokens issued before it stop once `announceEpoch` has run. */
export async function bumpEpoch(host: UsersHost, userId: number, t: Transaction): Promise<number> {
  const { User } = host.models;
  await User.update({ sessionEpoch: Sequelize.literal("session_epoch + 1"), sessionEpochAt: new Date() }, { where: { id: userId }, transaction: t });
  const u = await User.findByPk(userId, { attributes: ["sessionEpoch"], transaction: t });
  return Number(u!.sessionEpoch);
}

/** After the commit: the KV marker every gateway reads, then a broadcast so they need not wait for their cache. */
export async function announceEpoch(host: UsersHost, userId: number, epoch: number, endedSessions: string[] = []) {
  await markRevoked(host.kv, endedSessions, host.cfg.accessTokenTtlSec);
  await publishEpoch(host.kv, userId, epoch, host.cfg.accessTokenTtlSec);
  await host.broker.broadcast(SESSION_EPOCH_CHANGED, { userId, epoch } satisfies SessionEpochChanged);
}

/**
 * The markers only live in the KV store; the database says which sessions ended and which epochs
 * moved within an access token's lifetime, so a restarted embedded node (memory KV) puts them back.
 */
export async function restoreMarkers(host: UsersHost) {
  const ttl = host.cfg.accessTokenTtlSec;
  const since = new Date(Date.now() - ttl * 1000);
  const sessions = await host.models.Session.findAll({ attributes: ["id"], where: { revokedAt: { [Op.gte]: since } } });
  await markRevoked(host.kv, sessions.map((s) => s.id), ttl);
  const users = await host.models.User.findAll({ attributes: ["id", "sessionEpoch"], where: { sessionEpochAt: { [Op.gte]: since } } });
  await Promise.all(users.map((u) => publishEpoch(host.kv, Number(u.id), Number(u.sessionEpoch), ttl)));
}
