/**
 * Accounts as stored: creating a user (with roles and a wallet, and `user.registered` through the
 * outbox), the public profile, roles, the profile update and the bootstrap admin.
 */
import crypto from "node:crypto";
import { hash as argonHash } from "@node-rs/argon2";
import type { Transaction } from "sequelize";
import { ADMIN_CREATED } from "../shared/announce";
import { isUniqueViolation, withNamedLock } from "../shared/db";
import { bizError } from "../shared/errors";
import { normaliseEmail, normaliseRoles, normaliseUsername } from "./domain/accounts";
import { UsersHost, iso } from "./host";
import { PublicUser, UserContact, UserEvents, UserLocale } from "./users.contracts";

export interface NewUser {
  username: string;
  password: string;
  email: string;
  mobile?: string;
  roles: string[];
}

export async function createUser(host: UsersHost, p: NewUser): Promise<number> {
  const passwordHash = await argonHash(p.password);
  try {
    return await host.tx(async (t) => {
      const { User, UserRole, Wallet } = host.models;
      const u = await User.create(
        {
          username: p.username,
          usernameNorm: normaliseUsername(p.username),
          email: normaliseEmail(p.email),
          mobile: p.mobile ?? null,
          passwordHash,
          status: "ACTIVE",
          sessionEpoch: 0,
        },
        { transaction: t },
      );
      await UserRole.bulkCreate(
        normaliseRoles(p.roles).map((role) => ({ userId: u.id, role })),
        { transaction: t },
      );
      await Wallet.create({ userId: u.id, balance: 0, currency: "CNY" }, { transaction: t });
      await host.outbox(t, UserEvents.REGISTERED, { userId: Number(u.id), username: u.username, email: u.email });
      return Number(u.id);
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      const taken = await host.models.User.findOne({ where: { usernameNorm: normaliseUsername(p.username) } });
      if (taken) throw bizError("USERNAME_TAKEN");
      const email = await host.models.User.findOne({ where: { email: normaliseEmail(p.email) } });
      if (email) throw bizError("EMAIL_TAKEN");
      throw bizError("MOBILE_TAKEN");
    }
    throw err;
  }
}

export async function rolesOf(host: UsersHost, id: number, t?: Transaction): Promise<string[]> {
  const rows = await host.models.UserRole.findAll({ where: { userId: id }, transaction: t });
  return normaliseRoles(rows.map((r) => r.role));
}

export async function publicUser(host: UsersHost, id: number, t?: Transaction): Promise<PublicUser> {
  const u = await host.models.User.findByPk(id, { transaction: t });
  if (!u) throw bizError("USER_NOT_FOUND");
  return {
    id: Number(u.id),
    username: u.username,
    email: u.email,
    mobile: u.mobile,
    nickname: u.nickname,
    avatarUrl: u.avatarUrl,
    locale: asLocale(u.locale),
    roles: await rolesOf(host, u.id, t),
    status: u.status,
    createdAt: iso(u.createdAt)!,
  };
}

const asLocale = (v: string | null | undefined): UserLocale => (v === "en" ? "en" : "zh-CN");

/** How to reach a user (messages): rows in the order of their ids, unknown ids left out. */
export function contactOf(u: { id: number; username: string; nickname: string | null; email: string; mobile: string | null; locale: string; status: string }): UserContact {
  return { id: Number(u.id), username: u.username, nickname: u.nickname, email: u.email, mobile: u.mobile, locale: asLocale(u.locale), status: u.status };
}

export async function updateProfile(host: UsersHost, id: number, p: { nickname?: string; email?: string; mobile?: string; avatarUrl?: string; locale?: UserLocale }) {
  const patch: Record<string, unknown> = {};
  if (p.locale !== undefined) patch.locale = p.locale;
  if (p.nickname !== undefined) patch.nickname = p.nickname;
  if (p.email !== undefined) patch.email = normaliseEmail(p.email);
  if (p.mobile !== undefined) patch.mobile = p.mobile;
  if (p.avatarUrl !== undefined) patch.avatarUrl = p.avatarUrl;
  if (Object.keys(patch).length) {
    try {
      await host.models.User.update(patch, { where: { id } });
    } catch (err) {
      if (isUniqueViolation(err)) throw bizError(patch.email ? "EMAIL_TAKEN" : "MOBILE_TAKEN");
      throw err;
    }
    await clearUserCache(host, id);
  }
  return publicUser(host, id);
}

export async function clearUserCache(host: UsersHost, id: number) {
  await host.broker.cacher?.del(`users.me:${id}`);
}

/** Serialise per-user writes (address limit / single default) on MySQL; SQLite is serial. */
export async function lockUser(host: UsersHost, userId: number, t: Transaction) {
  if (host.sequelize.getDialect() === "sqlite") return;
  await host.models.User.findByPk(userId, { transaction: t, lock: t.LOCK.UPDATE });
}

/**
 * ADMIN_USERNAME/ADMIN_PASSWORD create or reset the admin; else one is made once. Under a
 * database lock: users nodes starting together would otherwise reset the same admin's roles at
 * once, and the loser of that duplicate key fails to start.
 */
export async function bootstrapAdmin(host: UsersHost) {
  await withNamedLock(host.databaseUrl, "bootstrap-admin", () => bootstrapAdminLocked(host));
}

async function bootstrapAdminLocked(host: UsersHost) {
  const { adminUsername, adminPassword } = host.cfg;
  const { User, UserRole } = host.models;
  if (adminUsername && adminPassword) {
    const existing = await User.findOne({ where: { usernameNorm: normaliseUsername(adminUsername) } });
    if (existing) {
      await User.update({ passwordHash: await argonHash(adminPassword), status: "ACTIVE" }, { where: { id: existing.id } });
      const roles = normaliseRoles([...(await rolesOf(host, existing.id)), "admin"]);
      await UserRole.destroy({ where: { userId: existing.id } });
      await UserRole.bulkCreate(roles.map((role) => ({ userId: existing.id, role })));
      await clearUserCache(host, existing.id);
      host.logger.info(`Bootstrap admin '${adminUsername}' password reset from ADMIN_PASSWORD`);
    } else {
      await createUser(host, { username: adminUsername, password: adminPassword, email: `${normaliseUsername(adminUsername)}@admin.local`, roles: ["customer", "admin"] }).catch(
        (err) => {
          if (err?.type !== "USERNAME_TAKEN") throw err; // another node made it first
        },
      );
      host.logger.info(`Bootstrap admin '${adminUsername}' created from ADMIN_USERNAME/ADMIN_PASSWORD`);
    }
    return;
  }
  const anyAdmin = await UserRole.findOne({ where: { role: "admin" } });
  if (anyAdmin) return;
  const generated = crypto.randomBytes(12).toString("base64url");
  try {
    await createUser(host, { username: "admin", password: generated, email: "admin@admin.local", roles: ["customer", "admin"] });
  } catch (err) {
    if ((err as { type?: string })?.type === "USERNAME_TAKEN") return;
    throw err;
  }
  // shown once, at the moment it is created: the start-up console prints it in its ready block
  // (services/shared/announce.ts), or prints this banner where there is no such block
  const banner = `\n  Admin account created — username: admin  password: ${generated}\n  (set ADMIN_USERNAME/ADMIN_PASSWORD to choose your own; this is shown only once)\n`;
  // a node started without the start-up console (tests, scripts) has no listener: print it here
  if (host.broker.localBus.listenerCount(ADMIN_CREATED) === 0) process.stdout.write(banner);
  else host.broker.localBus.emit(ADMIN_CREATED, { username: "admin", password: generated, banner });
}
