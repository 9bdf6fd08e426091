/**
 * Identity and accounts: registration, login, rotating refresh tokens, logout, password change,
 * profile, addresses, roles and the wallet ledger. Sessions are refresh-token families; the
 * family id is the `sid` claim of every access token issued for that session, which is how
 * logout and password changes revoke access tokens at once (services/shared/tokens.ts).
 */
import crypto from "node:crypto";
import { hash as argonHash, verify as argonVerify } from "@node-rs/argon2";
import type { Context, Service, ServiceSchema } from "moleculer";
import { Op, Transaction } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { AddressAttrs, UserModels, defineUserModels } from "../../models/users";
import { MallConfig, configOf } from "../shared/config";
import { isUniqueViolation } from "../shared/db";
import { bizError } from "../shared/errors";
import { KvStore, acquireKv, releaseKv } from "../shared/kv";
import { AuthUser, ROLES, hashSecret, newRefreshSecret, revokeSessions, signAccessToken } from "../shared/tokens";
import type { Meta } from "../api/api.service";
import { MAX_ADDRESSES, PASSWORD_MAX, PASSWORD_MIN, loginKind, nextDefault, normaliseEmail, normaliseRoles, normaliseUsername, parseRefreshToken } from "./domain/accounts";
import { AddressDto, PublicUser, UserEvents, WalletMoveParams, WalletMoveResult } from "./users.contracts";
import { entryDto, walletMove } from "./wallet";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

export type UsersThis = Service & {
  cfg: MallConfig;
  kv: KvStore;
  models: UserModels;
  sequelize: import("sequelize").Sequelize;
  tx<T>(fn: (t: Transaction) => Promise<T>): Promise<T>;
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
  publicUser(id: number, t?: Transaction): Promise<PublicUser>;
  rolesOf(id: number, t?: Transaction): Promise<string[]>;
  issueSession(user: { id: number; roles: string[] }, familyId?: string, t?: Transaction): Promise<Record<string, unknown>>;
  throttleLogin(login: string, ip: string | undefined): Promise<void>;
  revokeFamilies(familyIds: string[], t?: Transaction): Promise<void>;
  lockUser(userId: number, t: Transaction): Promise<void>;
  bootstrapAdmin(): Promise<void>;
  createUser(p: { username: string; password: string; email: string; mobile?: string; roles: string[] }): Promise<number>;
  clearUserCache(id: number): Promise<void>;
};

// A real hash to verify against when the user does not exist, so timing does not reveal it.
let DUMMY_HASH: Promise<string> | null = null;
const dummyHash = () => (DUMMY_HASH ??= argonHash("dummy-password-for-timing"));

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

function addressDto(a: AddressAttrs): AddressDto {
  return {
    id: Number(a.id),
    name: a.name,
    mobile: a.mobile,
    province: a.province,
    city: a.city,
    district: a.district,
    detail: a.detail,
    isDefault: !!a.isDefault,
    createdAt: iso(a.createdAt)!,
    updatedAt: iso(a.updatedAt)!,
  };
}

const password = { type: "string", min: PASSWORD_MIN, max: PASSWORD_MAX };
const mobile = { type: "string", pattern: /^\+?[0-9]{6,20}$/, optional: true };
const addressFields = {
  name: { type: "string", min: 1, max: 64, trim: true },
  mobile: { type: "string", pattern: /^\+?[0-9]{6,20}$/ },
  province: { type: "string", min: 1, max: 64, trim: true },
  city: { type: "string", min: 1, max: 64, trim: true },
  district: { type: "string", min: 1, max: 64, trim: true },
  detail: { type: "string", min: 1, max: 255, trim: true },
};
const partial = (o: Record<string, object>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { ...v, optional: true }]));
const walletMoveParams = {
  userId: { type: "number", integer: true, positive: true },
  amount: { type: "number", integer: true, positive: true },
  reference: { type: "string", min: 1, max: 128 },
  reason: { type: "string", min: 1, max: 255 },
};
const pageParams = {
  page: { type: "number", integer: true, min: 1, default: 1, convert: true },
  pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
};

const UsersService = {
  name: "users",
  mixins: [DbMixin({ service: "users", define: defineUserModels, primary: "User" }), OutboxMixin({ producer: "users" })],
  settings: { rest: "/" },

  actions: {
    register: {
      rest: "POST /auth/register",
      // password hashing is CPU-heavy: a burst queues here instead of starving every other call
      bulkhead: { enabled: true, concurrency: 8, maxQueueSize: 500 },
      auth: false,
      summary: "Create a customer account",
      params: {
        username: { type: "string", pattern: /^[A-Za-z0-9_]{3,32}$/ },
        password,
        email: { type: "email", max: 254 },
        mobile,
      },
      async handler(this: UsersThis, ctx: Ctx<{ username: string; password: string; email: string; mobile?: string }>) {
        const id = await this.createUser({ ...ctx.params, roles: ["customer"] });
        ctx.meta.$statusCode = 201;
        return this.publicUser(id);
      },
    },

    login: {
      rest: "POST /auth/login",
      bulkhead: { enabled: true, concurrency: 8, maxQueueSize: 500 },
      auth: false,
      summary: "Log in with username or email",
      params: { username: { type: "string", min: 1, max: 254 }, password: { type: "string", min: 1, max: 200 } },
      async handler(this: UsersThis, ctx: Ctx<{ username: string; password: string }>) {
        const login = ctx.params.username.trim();
        await this.throttleLogin(login, ctx.meta.clientIp);
        const { User } = this.models;
        const user = await User.findOne({
          where: loginKind(login) === "email" ? { email: normaliseEmail(login) } : { usernameNorm: normaliseUsername(login) },
        });
        const ok = user
          ? await argonVerify(user.passwordHash, ctx.params.password).catch(() => false)
          : await argonVerify(await dummyHash(), ctx.params.password).then(() => false);
        if (!user || !ok) throw bizError("INVALID_CREDENTIALS");
        if (user.status !== "ACTIVE") throw bizError("USER_DISABLED");
        await this.kv.del(`login:acct:${normaliseUsername(login)}`);
        const roles = await this.rolesOf(user.id);
        return { ...(await this.issueSession({ id: user.id, roles })), user: await this.publicUser(user.id) };
      },
    },

    refresh: {
      rest: "POST /auth/refresh",
      auth: false,
      summary: "Rotate a refresh token; reuse of a rotated token revokes the session",
      params: { refreshToken: { type: "string", min: 1, max: 200 } },
      async handler(this: UsersThis, ctx: Ctx<{ refreshToken: string }>) {
        const parsed = parseRefreshToken(ctx.params.refreshToken);
        if (!parsed) throw bizError("TOKEN_INVALID");
        const { RefreshToken } = this.models;
        const row = await RefreshToken.findByPk(parsed.id);
        const good = row && crypto.timingSafeEqual(Buffer.from(row.tokenHash, "hex"), Buffer.from(hashSecret(parsed.secret), "hex"));
        if (!row || !good) throw bizError("TOKEN_INVALID");
        if (row.status === "REVOKED") throw bizError("TOKEN_REVOKED");
        if (row.status === "ROTATED") {
          // a rotated token came back: it was stolen or replayed — end the whole session
          await this.revokeFamilies([row.familyId]);
          throw bizError("TOKEN_REVOKED", "refresh token was already used; the session has been revoked");
        }
        if (new Date(row.expiresAt).getTime() <= Date.now()) throw bizError("TOKEN_INVALID", "refresh token has expired");
        const [won] = await RefreshToken.update({ status: "ROTATED" }, { where: { id: row.id, status: "ACTIVE" } });
        if (won !== 1) {
          await this.revokeFamilies([row.familyId]);
          throw bizError("TOKEN_REVOKED", "refresh token was already used; the session has been revoked");
        }
        const user = await this.models.User.findByPk(row.userId);
        if (!user || user.status !== "ACTIVE") throw bizError("TOKEN_REVOKED");
        return this.issueSession({ id: user.id, roles: await this.rolesOf(user.id) }, row.familyId);
      },
    },

    logout: {
      rest: "POST /auth/logout",
      summary: "Revoke this session (refresh family and access tokens)",
      params: {},
      async handler(this: UsersThis, ctx: Ctx) {
        await this.revokeFamilies([ctx.meta.user!.sid]);
        return { loggedOut: true };
      },
    },

    changePassword: {
      rest: "POST /auth/change-password",
      summary: "Change password; every other session is revoked",
      params: { oldPassword: { type: "string", min: 1, max: 200 }, newPassword: password },
      async handler(this: UsersThis, ctx: Ctx<{ oldPassword: string; newPassword: string }>) {
        const me = ctx.meta.user!;
        const user = await this.models.User.findByPk(me.id);
        if (!user) throw bizError("USER_NOT_FOUND");
        if (!(await argonVerify(user.passwordHash, ctx.params.oldPassword).catch(() => false))) throw bizError("INVALID_CREDENTIALS", "old password is wrong");
        const passwordHash = await argonHash(ctx.params.newPassword);
        await this.models.User.update({ passwordHash }, { where: { id: me.id } });
        const others = await this.models.RefreshToken.findAll({
          attributes: ["familyId"],
          where: { userId: me.id, familyId: { [Op.ne]: me.sid }, status: { [Op.ne]: "REVOKED" } },
          group: ["familyId"],
        });
        await this.revokeFamilies(others.map((o) => o.familyId));
        return { changed: true, revokedSessions: others.length };
      },
    },

    me: {
      rest: "GET /users/me",
      summary: "My profile with roles",
      params: {},
      cache: { keys: ["#user.id"], ttl: 60 },
      async handler(this: UsersThis, ctx: Ctx) {
        return this.publicUser(ctx.meta.user!.id);
      },
    },

    updateMe: {
      rest: "PATCH /users/me",
      summary: "Update my profile",
      params: {
        nickname: { type: "string", max: 64, optional: true, trim: true },
        email: { type: "email", max: 254, optional: true },
        mobile,
        avatarUrl: { type: "url", max: 512, optional: true },
      },
      async handler(this: UsersThis, ctx: Ctx<{ nickname?: string; email?: string; mobile?: string; avatarUrl?: string }>) {
        const id = ctx.meta.user!.id;
        const patch: Record<string, unknown> = {};
        if (ctx.params.nickname !== undefined) patch.nickname = ctx.params.nickname;
        if (ctx.params.email !== undefined) patch.email = normaliseEmail(ctx.params.email);
        if (ctx.params.mobile !== undefined) patch.mobile = ctx.params.mobile;
        if (ctx.params.avatarUrl !== undefined) patch.avatarUrl = ctx.params.avatarUrl;
        if (Object.keys(patch).length) {
          try {
            await this.models.User.update(patch, { where: { id } });
          } catch (err) {
            if (isUniqueViolation(err)) throw bizError(patch.email ? "EMAIL_TAKEN" : "MOBILE_TAKEN");
            throw err;
          }
          await this.clearUserCache(id);
        }
        return this.publicUser(id);
      },
    },

    listAddresses: {
      rest: "GET /users/me/addresses",
      summary: "My addresses (default first)",
      params: {},
      async handler(this: UsersThis, ctx: Ctx) {
        const rows = await this.models.Address.findAll({
          where: { userId: ctx.meta.user!.id },
          order: [
            ["isDefault", "DESC"],
            ["id", "DESC"],
          ],
        });
        return rows.map(addressDto);
      },
    },

    createAddress: {
      rest: "POST /users/me/addresses",
      summary: "Add an address (at most 20; the first is the default)",
      params: { ...addressFields, isDefault: { type: "boolean", optional: true } },
      async handler(this: UsersThis, ctx: Ctx<Record<string, string> & { isDefault?: boolean }>) {
        const userId = ctx.meta.user!.id;
        const { isDefault, ...fields } = ctx.params;
        const created = await this.tx(async (t) => {
          await this.lockUser(userId, t);
          const { Address } = this.models;
          const existing = await Address.findAll({ where: { userId }, transaction: t });
          if (existing.length >= MAX_ADDRESSES) throw bizError("ADDRESS_LIMIT_REACHED");
          const row = await Address.create({ ...fields, userId, isDefault: false }, { transaction: t });
          const def = nextDefault(
            [...existing.map((a) => ({ id: a.id, isDefault: a.isDefault, createdAt: a.createdAt })), { id: row.id, isDefault: false, createdAt: row.createdAt }],
            { markDefault: isDefault || existing.length === 0 ? row.id : undefined },
          );
          await setDefault(this, userId, def, t);
          return row.id;
        });
        ctx.meta.$statusCode = 201;
        const row = await this.models.Address.findByPk(created);
        return addressDto(row!);
      },
    },

    updateAddress: {
      rest: "PATCH /users/me/addresses/:id",
      summary: "Change an address; isDefault: true makes it the default",
      params: { id: { type: "number", integer: true, positive: true, convert: true }, ...partial(addressFields), isDefault: { type: "boolean", optional: true } },
      async handler(this: UsersThis, ctx: Ctx<Record<string, string> & { id: number; isDefault?: boolean }>) {
        const userId = ctx.meta.user!.id;
        const { id, isDefault, ...fields } = ctx.params;
        await this.tx(async (t) => {
          await this.lockUser(userId, t);
          const { Address } = this.models;
          const all = await Address.findAll({ where: { userId }, transaction: t });
          if (!all.some((a) => Number(a.id) === id)) throw bizError("ADDRESS_NOT_FOUND");
          if (Object.keys(fields).length) await Address.update(fields, { where: { id, userId }, transaction: t });
          if (isDefault === true) await setDefault(this, userId, id, t);
          else if (isDefault === false) {
            // unmarking the default hands it to the newest other address, if any
            const def = nextDefault(
              all.filter((a) => Number(a.id) !== id).map((a) => ({ id: Number(a.id), isDefault: a.isDefault, createdAt: a.createdAt })),
              {},
            );
            if (def !== null) await setDefault(this, userId, def, t);
          }
        });
        return addressDto((await this.models.Address.findByPk(id))!);
      },
    },

    deleteAddress: {
      rest: "DELETE /users/me/addresses/:id",
      summary: "Delete an address; the newest remaining becomes default if needed",
      params: { id: { type: "number", integer: true, positive: true, convert: true } },
      async handler(this: UsersThis, ctx: Ctx<{ id: number }>) {
        const userId = ctx.meta.user!.id;
        await this.tx(async (t) => {
          await this.lockUser(userId, t);
          const { Address } = this.models;
          const all = await Address.findAll({ where: { userId }, transaction: t });
          if (!all.some((a) => Number(a.id) === ctx.params.id)) throw bizError("ADDRESS_NOT_FOUND");
          await Address.destroy({ where: { id: ctx.params.id, userId }, transaction: t });
          const def = nextDefault(
            all.map((a) => ({ id: Number(a.id), isDefault: a.isDefault, createdAt: a.createdAt })),
            { removed: ctx.params.id },
          );
          await setDefault(this, userId, def, t);
        });
        return { deleted: true };
      },
    },

    /** Internal: an address for an order snapshot, only if it belongs to the user. */
    getAddress: {
      visibility: "public",
      params: { userId: { type: "number", integer: true, positive: true }, addressId: { type: "number", integer: true, positive: true } },
      async handler(this: UsersThis, ctx: Context<{ userId: number; addressId: number }>) {
        const row = await this.models.Address.findOne({ where: { id: ctx.params.addressId, userId: ctx.params.userId } });
        if (!row) throw bizError("ADDRESS_NOT_FOUND");
        return addressDto(row);
      },
    },

    /** Internal: public profile by id. */
    get: {
      visibility: "public",
      params: { id: { type: "number", integer: true, positive: true } },
      async handler(this: UsersThis, ctx: Context<{ id: number }>) {
        return this.publicUser(ctx.params.id);
      },
    },

    /** Internal: ids of users (for batch messages). */
    listIds: {
      visibility: "public",
      params: { afterId: { type: "number", integer: true, min: 0, default: 0 }, limit: { type: "number", integer: true, min: 1, max: 1000, default: 500 } },
      async handler(this: UsersThis, ctx: Context<{ afterId: number; limit: number }>) {
        const rows = await this.models.User.findAll({ attributes: ["id"], where: { id: { [Op.gt]: ctx.params.afterId } }, order: [["id", "ASC"]], limit: ctx.params.limit });
        return rows.map((r) => Number(r.id));
      },
    },

    wallet: {
      rest: "GET /users/me/wallet",
      summary: "My wallet balance and ledger (newest first)",
      params: pageParams,
      async handler(this: UsersThis, ctx: Ctx<{ page: number; pageSize: number }>) {
        const userId = ctx.meta.user!.id;
        const w = await this.models.Wallet.findByPk(userId);
        const { rows, count } = await this.models.WalletEntry.findAndCountAll({
          where: { userId },
          order: [["id", "DESC"]],
          limit: ctx.params.pageSize,
          offset: (ctx.params.page - 1) * ctx.params.pageSize,
        });
        return {
          balance: w ? Number(w.balance) : 0,
          currency: w?.currency ?? "CNY",
          entries: rows.map(entryDto),
          total: count,
          page: ctx.params.page,
          pageSize: ctx.params.pageSize,
        };
      },
    },

    adminList: {
      rest: "GET /admin/users",
      roles: ["operator", "admin"],
      summary: "Search users (admin)",
      params: {
        q: { type: "string", max: 64, optional: true },
        role: { type: "enum", values: [...ROLES], optional: true },
        ...pageParams,
      },
      async handler(this: UsersThis, ctx: Ctx<{ q?: string; role?: string; page: number; pageSize: number }>) {
        const { User, UserRole } = this.models;
        const where: Record<string | symbol, unknown> = {};
        if (ctx.params.q) {
          const like = `%${ctx.params.q.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
          where[Op.or] = [{ username: { [Op.like]: like } }, { email: { [Op.like]: like } }, { mobile: { [Op.like]: like } }];
        }
        if (ctx.params.role) {
          const ids = await UserRole.findAll({ attributes: ["userId"], where: { role: ctx.params.role } });
          where.id = { [Op.in]: ids.map((r) => r.userId) };
        }
        const { rows, count } = await User.findAndCountAll({
          where,
          order: [["id", "ASC"]],
          limit: ctx.params.pageSize,
          offset: (ctx.params.page - 1) * ctx.params.pageSize,
        });
        const items = await Promise.all(rows.map((u) => this.publicUser(u.id)));
        return { items, total: count, page: ctx.params.page, pageSize: ctx.params.pageSize };
      },
    },

    setRoles: {
      rest: "PUT /admin/users/:id/roles",
      roles: ["admin"],
      summary: "Replace a user's roles (admin only)",
      params: {
        id: { type: "number", integer: true, positive: true, convert: true },
        roles: { type: "array", min: 1, max: 3, items: { type: "enum", values: [...ROLES] } },
      },
      async handler(this: UsersThis, ctx: Ctx<{ id: number; roles: string[] }>) {
        const roles = normaliseRoles(ctx.params.roles);
        await this.tx(async (t) => {
          const user = await this.models.User.findByPk(ctx.params.id, { transaction: t });
          if (!user) throw bizError("USER_NOT_FOUND");
          await this.models.UserRole.destroy({ where: { userId: ctx.params.id }, transaction: t });
          await this.models.UserRole.bulkCreate(
            roles.map((role) => ({ userId: ctx.params.id, role })),
            { transaction: t },
          );
        });
        await this.clearUserCache(ctx.params.id);
        return this.publicUser(ctx.params.id);
      },
    },

    adminCredit: {
      rest: "POST /admin/users/:id/wallet/credit",
      roles: ["admin"],
      summary: "Credit a user's wallet (admin only; Idempotency-Key makes retries safe)",
      params: {
        id: { type: "number", integer: true, positive: true, convert: true },
        amount: { type: "number", integer: true, positive: true, max: 100_000_000_00 },
        reason: { type: "string", min: 1, max: 255, trim: true },
      },
      async handler(this: UsersThis, ctx: Ctx<{ id: number; amount: number; reason: string }>) {
        const user = await this.models.User.findByPk(ctx.params.id);
        if (!user) throw bizError("USER_NOT_FOUND");
        const reference = ctx.meta.idempotencyKey ? `admin-credit:${ctx.meta.user!.id}:${ctx.meta.idempotencyKey}` : `admin-credit:${crypto.randomUUID()}`;
        const res = await walletMove(this, "CREDIT", { userId: ctx.params.id, amount: ctx.params.amount, reason: ctx.params.reason, reference });
        return { balance: res.balance, currency: res.currency, entry: res.entry, applied: res.applied };
      },
    },

    walletDebit: {
      visibility: "public",
      summary: "Internal: debit a wallet once per reference; never below zero",
      params: walletMoveParams,
      async handler(this: UsersThis, ctx: Context<WalletMoveParams>): Promise<WalletMoveResult> {
        return walletMove(this, "DEBIT", ctx.params);
      },
    },

    walletCredit: {
      visibility: "public",
      summary: "Internal: credit a wallet once per reference (refunds)",
      params: walletMoveParams,
      async handler(this: UsersThis, ctx: Context<WalletMoveParams>): Promise<WalletMoveResult> {
        return walletMove(this, "CREDIT", ctx.params);
      },
    },
  },

  methods: {
    async createUser(this: UsersThis, p: { username: string; password: string; email: string; mobile?: string; roles: string[] }) {
      const passwordHash = await argonHash(p.password);
      try {
        return await this.tx(async (t) => {
          const { User, UserRole, Wallet } = this.models;
          const u = await User.create(
            {
              username: p.username,
              usernameNorm: normaliseUsername(p.username),
              email: normaliseEmail(p.email),
              mobile: p.mobile ?? null,
              passwordHash,
              status: "ACTIVE",
            },
            { transaction: t },
          );
          await UserRole.bulkCreate(
            normaliseRoles(p.roles).map((role) => ({ userId: u.id, role })),
            { transaction: t },
          );
          await Wallet.create({ userId: u.id, balance: 0, currency: "CNY" }, { transaction: t });
          await this.outbox(t, UserEvents.REGISTERED, { userId: Number(u.id), username: u.username, email: u.email });
          return Number(u.id);
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          const taken = await this.models.User.findOne({ where: { usernameNorm: normaliseUsername(p.username) } });
          if (taken) throw bizError("USERNAME_TAKEN");
          const email = await this.models.User.findOne({ where: { email: normaliseEmail(p.email) } });
          if (email) throw bizError("EMAIL_TAKEN");
          throw bizError("MOBILE_TAKEN");
        }
        throw err;
      }
    },

    async publicUser(this: UsersThis, id: number, t?: Transaction): Promise<PublicUser> {
      const u = await this.models.User.findByPk(id, { transaction: t });
      if (!u) throw bizError("USER_NOT_FOUND");
      return {
        id: Number(u.id),
        username: u.username,
        email: u.email,
        mobile: u.mobile,
        nickname: u.nickname,
        avatarUrl: u.avatarUrl,
        roles: await this.rolesOf(u.id, t),
        status: u.status,
        createdAt: iso(u.createdAt)!,
      };
    },

    async rolesOf(this: UsersThis, id: number, t?: Transaction) {
      const rows = await this.models.UserRole.findAll({ where: { userId: id }, transaction: t });
      return normaliseRoles(rows.map((r) => r.role));
    },

    /** New refresh token (in `familyId`, or a new session) and an access token bound to it. */
    async issueSession(this: UsersThis, user: { id: number; roles: string[] }, familyId?: string) {
      const sid = familyId ?? crypto.randomUUID();
      const id = crypto.randomUUID();
      const secret = newRefreshSecret();
      await this.models.RefreshToken.create({
        id,
        familyId: sid,
        userId: user.id,
        tokenHash: hashSecret(secret),
        status: "ACTIVE",
        expiresAt: new Date(Date.now() + this.cfg.refreshTokenTtlSec * 1000),
      });
      const access = signAccessToken(this.cfg.jwtSecret, this.cfg.accessTokenTtlSec, user, sid);
      return {
        accessToken: access.token,
        refreshToken: `${id}.${secret}`,
        tokenType: "Bearer",
        expiresIn: this.cfg.accessTokenTtlSec,
      };
    },

    async revokeFamilies(this: UsersThis, familyIds: string[]) {
      if (!familyIds.length) return;
      await this.models.RefreshToken.update(
        { status: "REVOKED", revokedAt: new Date() },
        { where: { familyId: { [Op.in]: familyIds }, status: { [Op.ne]: "REVOKED" } } },
      );
      await revokeSessions(this.kv, familyIds, this.cfg.accessTokenTtlSec);
    },

    /** Per account and per client attempt counters (LOGIN_RATE_LIMIT_*). */
    async throttleLogin(this: UsersThis, login: string, ip: string | undefined) {
      const { loginLimit, loginWindowMs } = this.cfg.rateLimit;
      const [acct] = await this.kv.incr(`login:acct:${normaliseUsername(login)}`, loginWindowMs);
      const [client] = ip ? await this.kv.incr(`login:ip:${ip}`, loginWindowMs) : [0];
      // a client may try several accounts, so its allowance is larger than one account's
      if (acct > loginLimit || client > loginLimit * 5) throw bizError("LOGIN_RATE_LIMITED");
    },

    /** Serialise per-user writes (address limit / single default) on MySQL; SQLite is serial. */
    async lockUser(this: UsersThis, userId: number, t: Transaction) {
      if (this.sequelize.getDialect() === "sqlite") return;
      await this.models.User.findByPk(userId, { transaction: t, lock: t.LOCK.UPDATE });
    },

    async clearUserCache(this: UsersThis, id: number) {
      await this.broker.cacher?.del(`users.me:${id}`);
    },

    /** ADMIN_USERNAME/ADMIN_PASSWORD create or reset the admin; else one is made once. */
    async bootstrapAdmin(this: UsersThis) {
      const { adminUsername, adminPassword } = this.cfg;
      const { User, UserRole } = this.models;
      if (adminUsername && adminPassword) {
        const existing = await User.findOne({ where: { usernameNorm: normaliseUsername(adminUsername) } });
        if (existing) {
          await User.update({ passwordHash: await argonHash(adminPassword), status: "ACTIVE" }, { where: { id: existing.id } });
          const roles = normaliseRoles([...(await this.rolesOf(existing.id)), "admin"]);
          await UserRole.destroy({ where: { userId: existing.id } });
          await UserRole.bulkCreate(roles.map((role) => ({ userId: existing.id, role })));
          await this.clearUserCache(existing.id);
          this.logger.info(`Bootstrap admin '${adminUsername}' password reset from ADMIN_PASSWORD`);
        } else {
          await this.createUser({ username: adminUsername, password: adminPassword, email: `${normaliseUsername(adminUsername)}@admin.local`, roles: ["customer", "admin"] }).catch(
            (err) => {
              if (err?.type !== "USERNAME_TAKEN") throw err; // another node made it first
            },
          );
          this.logger.info(`Bootstrap admin '${adminUsername}' created from ADMIN_USERNAME/ADMIN_PASSWORD`);
        }
        return;
      }
      const anyAdmin = await UserRole.findOne({ where: { role: "admin" } });
      if (anyAdmin) return;
      const generated = crypto.randomBytes(12).toString("base64url");
      try {
        await this.createUser({ username: "admin", password: generated, email: "admin@admin.local", roles: ["customer", "admin"] });
      } catch (err) {
        if ((err as { type?: string })?.type === "USERNAME_TAKEN") return;
        throw err;
      }
      // printed once, on the console, at the moment it is created
      const banner = `\n  Admin account created — username: admin  password: ${generated}\n  (set ADMIN_USERNAME/ADMIN_PASSWORD to choose your own; this is shown only once)\n`;
      this.broker.localBus.emit("mall.adminCreated", { username: "admin", password: generated, banner });
    },
  },

  async created(this: UsersThis) {
    this.cfg = configOf(this);
    this.kv = acquireKv(this.cfg.redisUrl, this.cfg.namespace);
  },

  async started(this: UsersThis) {
    // access tokens of sessions revoked shortly before a restart stay revoked (memory KV)
    if (this.kv.kind === "memory") {
      const since = new Date(Date.now() - this.cfg.accessTokenTtlSec * 1000);
      const rows = await this.models.RefreshToken.findAll({ attributes: ["familyId"], where: { revokedAt: { [Op.gte]: since } }, group: ["familyId"] });
      await revokeSessions(this.kv, rows.map((r) => r.familyId), this.cfg.accessTokenTtlSec);
    }
    await this.bootstrapAdmin();
  },

  async stopped(this: UsersThis) {
    await releaseKv(this.cfg.redisUrl, this.cfg.namespace);
  },
};

async function setDefault(svc: UsersThis, userId: number, id: number | null, t: Transaction) {
  const { Address } = svc.models;
  await Address.update({ isDefault: false }, { where: { userId, isDefault: true, ...(id !== null ? { id: { [Op.ne]: id } } : {}) }, transaction: t });
  if (id !== null) await Address.update({ isDefault: true }, { where: { userId, id }, transaction: t });
}

export type { AuthUser };
export default UsersService as unknown as ServiceSchema;
