/**
 * Admin operations on accounts: search, roles, status, ending every session, wallet credit.
 * A change to what a user's tokens may do (roles, status, sessions) bumps the user's session
 * epoch in the same transaction, so access tokens issued before it stop within seconds, and is
 * written to `user_audit` with the admin who made it.
 */
import crypto from "node:crypto";
import { Op, Sequelize, Transaction, WhereOptions } from "sequelize";
import type { UserAttrs } from "../../models/users";
import { bizError } from "../shared/errors";
import { clearUserCache, publicUser, rolesOf } from "./account-store";
import { LIKE_ESCAPE, containsPattern, normaliseRoles } from "./domain/accounts";
import type { UsersHost } from "./host";
import { announceEpoch, bumpEpoch, endUserSessions } from "./sessions";
import { walletMove } from "./wallet";

export interface SearchParams {
  q?: string;
  role?: string;
  page: number;
  pageSize: number;
}

const SEARCHED = ["username", "email", "mobile", "nickname"] as const;

export async function searchUsers(host: UsersHost, p: SearchParams) {
  const { User, UserRole } = host.models;
  const where: WhereOptions<UserAttrs> & Record<symbol, unknown> = {};
  if (p.q) {
    // `_`, `%` and `!` in the query are literal characters, on SQLite and MySQL alike
    const like = { [Op.like]: Sequelize.literal(`${host.sequelize.escape(containsPattern(p.q))} ESCAPE '${LIKE_ESCAPE}'`) };
    where[Op.or] = SEARCHED.map((field) => ({ [field]: like }));
  }
  if (p.role) {
    const ids = await UserRole.findAll({ attributes: ["userId"], where: { role: p.role } });
    (where as Record<string, unknown>).id = { [Op.in]: ids.map((r) => r.userId) };
  }
  const { rows, count } = await User.findAndCountAll({ where, order: [["id", "ASC"]], limit: p.pageSize, offset: (p.page - 1) * p.pageSize });
  const items = await Promise.all(rows.map((u) => publicUser(host, u.id)));
  return { items, total: count, page: p.page, pageSize: p.pageSize };
}

export async function setRoles(host: UsersHost, actorId: number, userId: number, wanted: string[]) {
  const roles = normaliseRoles(wanted);
  const epoch = await host.tx(async (t) => {
    await mustFind(host, userId, t);
    const before = await rolesOf(host, userId, t);
    if (before.join() === roles.join()) return null;
    await host.models.UserRole.destroy({ where: { userId }, transaction: t });
    await host.models.UserRole.bulkCreate(
      roles.map((role) => ({ userId, role })),
      { transaction: t },
    );
    await audit(host, t, actorId, userId, "ROLES_CHANGED", { from: before, to: roles });
    return bumpEpoch(host, userId, t);
  });
  if (epoch !== null) await announceEpoch(host, userId, epoch);
  await clearUserCache(host, userId);
  return publicUser(host, userId);
}

/** DISABLED ends every session and access token at once; ACTIVE lets the user log in again. */
export async function setStatus(host: UsersHost, actorId: number, userId: number, status: "ACTIVE" | "DISABLED") {
  // a lone admin disabling themselves would leave nobody to undo it
  if (status === "DISABLED" && actorId === userId) throw bizError("CANNOT_DISABLE_SELF");
  const res = await host.tx(async (t) => {
    const user = await mustFind(host, userId, t);
    await host.models.User.update({ status }, { where: { id: userId }, transaction: t });
    if (status === "ACTIVE") {
      await audit(host, t, actorId, userId, "STATUS_CHANGED", { from: user.status, to: status });
      return { ended: [], epoch: null };
    }
    // disabling a disabled user ends and bumps again: a retry after a failed announce still lands
    const ended = await endUserSessions(host, userId, "ACCOUNT_DISABLED", t);
    await audit(host, t, actorId, userId, "STATUS_CHANGED", { from: user.status, to: status, sessionsEnded: ended.length });
    return { ended, epoch: await bumpEpoch(host, userId, t) };
  });
  if (res.epoch !== null) await announceEpoch(host, userId, res.epoch, res.ended);
  await clearUserCache(host, userId);
  return publicUser(host, userId);
}

export async function revokeAllSessions(host: UsersHost, actorId: number, userId: number) {
  const res = await host.tx(async (t) => {
    await mustFind(host, userId, t);
    const ended = await endUserSessions(host, userId, "ADMIN_REVOKED", t);
    await audit(host, t, actorId, userId, "SESSIONS_REVOKED", { sessionsEnded: ended.length });
    return { ended, epoch: await bumpEpoch(host, userId, t) };
  });
  await announceEpoch(host, userId, res.epoch, res.ended);
  return { revokedSessions: res.ended.length };
}

export async function creditWallet(host: UsersHost, actorId: number, p: { id: number; amount: number; reason: string }, idempotencyKey?: string) {
  const user = await host.models.User.findByPk(p.id);
  if (!user) throw bizError("USER_NOT_FOUND");
  const reference = idempotencyKey ? `admin-credit:${actorId}:${idempotencyKey}` : `admin-credit:${crypto.randomUUID()}`;
  const res = await walletMove(host, "CREDIT", { userId: p.id, amount: p.amount, reason: p.reason, reference });
  return { balance: res.balance, currency: res.currency, entry: res.entry, applied: res.applied };
}

async function mustFind(host: UsersHost, userId: number, t: Transaction) {
  const user = await host.models.User.findByPk(userId, { transaction: t });
  if (!user) throw bizError("USER_NOT_FOUND");
  return user;
}

/** A `user_audit` row in the change's own transaction, and a log line once it has committed. */
async function audit(host: UsersHost, t: Transaction, actorId: number, userId: number, action: string, detail: Record<string, unknown>) {
  await host.models.Audit.create({ userId, actorId, action, detail: JSON.stringify(detail) }, { transaction: t });
  t.afterCommit(() => host.logger.info(`audit: user ${actorId} ${action} user ${userId} ${JSON.stringify(detail)}`));
}
