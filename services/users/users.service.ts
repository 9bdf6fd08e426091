/**
 * Identity and accounts. This file is the schema (params, auth, routes); the work is done in
 * sessions.ts (login and its throttle, refresh, logout, password change, session epochs),
 * account-store.ts (users, profile, bootstrap admin), addresses.ts, admin.ts (search, roles,
 * status, revoking sessions, credit) and wallet.ts (the ledger).
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import { Op } from "sequelize";
import { DbMixin } from "../../mixins/db.mixin";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { defineUserModels } from "../../models/users";
import type { Meta } from "../shared/meta";
import { configOf } from "../shared/config";
import { bizError, validationError } from "../shared/errors";
import { acquireKv, releaseKv } from "../shared/kv";
import { AuthUser, ROLES } from "../shared/tokens";
import { bootstrapAdmin, contactOf, createUser, publicUser, updateProfile } from "./account-store";
import { AddressFields, addressDto, createAddress, deleteAddress, listAddresses, updateAddress } from "./addresses";
import { SearchParams, creditWallet, revokeAllSessions, searchUsers, setRoles, setStatus } from "./admin";
import { PASSWORD_MAX, PASSWORD_MIN, PASSWORD_NOT_BLANK, emailProblem } from "./domain/accounts";
import type { UsersHost } from "./host";
import { changePassword, login, logout, refresh, restoreMarkers } from "./sessions";
import { s } from "../shared/schema";
import {
  AddressSchema,
  Audience,
  DeletedSchema,
  ListIdsParams,
  USER_LOCALES,
  UserContact,
  UserLocale,
  LoggedOutSchema,
  LoginResultSchema,
  PasswordChangedSchema,
  RevokedSessionsSchema,
  SessionTokensSchema,
  UserPageSchema,
  UserSchema,
  WalletCreditSchema,
  WalletMoveParams,
  WalletMoveResult,
  WalletSchema,
} from "./users.contracts";
import { walletMove, walletPage } from "./wallet";
import { created } from "../shared/created";

type Ctx<P = Record<string, never>> = Context<P, Meta>;

export type UsersThis = Service & UsersHost;

const password = { type: "string", min: PASSWORD_MIN, max: PASSWORD_MAX, pattern: PASSWORD_NOT_BLANK };
// "precise" refuses `<script>@x.com`, which the default "quick" mode takes; emailProblem does the rest
const email = { type: "email", mode: "precise", max: 254 };
const mobile = { type: "string", pattern: /^\+?[0-9]{6,20}$/, optional: true };
const id = { type: "number", integer: true, positive: true, convert: true };
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

function checkEmail(value: string | undefined) {
  const problem = value === undefined ? null : emailProblem(value);
  if (problem) throw validationError([{ field: "email", message: `The 'email' field must be a valid e-mail: ${problem}.`, type: "email" }]);
}

const UsersService = {
  name: "users",
  mixins: [DbMixin({ service: "users", define: defineUserModels, primary: "User" }), OutboxMixin({ producer: "users" })],
  settings: { rest: "/" },

  actions: {
    register: {
      rest: "POST /auth/register",
      openapi: { status: 201, response: UserSchema, errors: ["USERNAME_TAKEN", "EMAIL_TAKEN", "MOBILE_TAKEN"] },
      // password hashing is CPU-heavy: a burst queues here instead of starving every other call
      bulkhead: { enabled: true, concurrency: 8, maxQueueSize: 500 },
      auth: false,
      summary: "Create a customer account",
      params: { username: { type: "string", pattern: /^[A-Za-z0-9_]{3,32}$/ }, password, email, mobile },
      async handler(this: UsersThis, ctx: Ctx<{ username: string; password: string; email: string; mobile?: string }>) {
        checkEmail(ctx.params.email);
        const id = await createUser(this, { ...ctx.params, roles: ["customer"] });
        created(ctx, "/users/me");
        return publicUser(this, id);
      },
    },

    login: {
      rest: "POST /auth/login",
      openapi: { response: LoginResultSchema, errors: ["INVALID_CREDENTIALS", "ACCOUNT_DISABLED", "LOGIN_RATE_LIMITED"] },
      bulkhead: { enabled: true, concurrency: 8, maxQueueSize: 500 },
      auth: false,
      summary: "Log in with username or email (throttled per account and client; 429 carries data.retryAfter)",
      params: { username: { type: "string", min: 1, max: 254 }, password: { type: "string", min: 1, max: 200 } },
      async handler(this: UsersThis, ctx: Ctx<{ username: string; password: string }>) {
        return login(this, ctx.params, ctx.meta.clientIp ?? "unknown");
      },
    },

    refresh: {
      rest: "POST /auth/refresh",
      openapi: { response: SessionTokensSchema, errors: ["TOKEN_INVALID", "TOKEN_REVOKED"] },
      auth: false,
      summary: "Rotate a refresh token; reuse of a rotated token revokes the session (except its late twin within the grace window)",
      params: { refreshToken: { type: "string", min: 1, max: 200 } },
      async handler(this: UsersThis, ctx: Ctx<{ refreshToken: string }>) {
        return refresh(this, ctx.params.refreshToken);
      },
    },

    logout: {
      rest: "POST /auth/logout",
      openapi: { response: LoggedOutSchema },
      summary: "Revoke this session (refresh family and access tokens)",
      params: {},
      async handler(this: UsersThis, ctx: Ctx) {
        return logout(this, ctx.meta.user!);
      },
    },

    changePassword: {
      rest: "POST /auth/change-password",
      openapi: { response: PasswordChangedSchema, errors: ["INVALID_CREDENTIALS"] },
      summary: "Change password; every other session is revoked",
      params: { oldPassword: { type: "string", min: 1, max: 200 }, newPassword: password },
      async handler(this: UsersThis, ctx: Ctx<{ oldPassword: string; newPassword: string }>) {
        return changePassword(this, ctx.meta.user!, ctx.params.oldPassword, ctx.params.newPassword);
      },
    },

    me: {
      rest: "GET /users/me",
      openapi: { response: UserSchema },
      summary: "My profile with roles",
      params: {},
      cache: { keys: ["#user.id"], ttl: 60 },
      async handler(this: UsersThis, ctx: Ctx) {
        return publicUser(this, ctx.meta.user!.id);
      },
    },

    updateMe: {
      rest: "PATCH /users/me",
      openapi: { response: UserSchema, errors: ["EMAIL_TAKEN", "MOBILE_TAKEN"] },
      summary: "Update my profile",
      params: {
        nickname: { type: "string", max: 64, optional: true, trim: true },
        email: { ...email, optional: true },
        mobile,
        avatarUrl: { type: "url", max: 512, optional: true },
        locale: { type: "enum", values: [...USER_LOCALES], optional: true },
      },
      async handler(this: UsersThis, ctx: Ctx<{ nickname?: string; email?: string; mobile?: string; avatarUrl?: string; locale?: UserLocale }>) {
        checkEmail(ctx.params.email);
        return updateProfile(this, ctx.meta.user!.id, ctx.params);
      },
    },

    listAddresses: {
      rest: "GET /users/me/addresses",
      openapi: { response: s.array(AddressSchema) },
      summary: "My addresses (default first)",
      params: {},
      async handler(this: UsersThis, ctx: Ctx) {
        return listAddresses(this, ctx.meta.user!.id);
      },
    },

    createAddress: {
      rest: "POST /users/me/addresses",
      openapi: { status: 201, response: AddressSchema, errors: ["ADDRESS_LIMIT_REACHED"] },
      idempotent: true,
      summary: "Add an address (at most 20; the first is the default)",
      params: { ...addressFields, isDefault: { type: "boolean", optional: true } },
      async handler(this: UsersThis, ctx: Ctx<AddressFields & { isDefault?: boolean }>) {
        const { isDefault, ...fields } = ctx.params;
        created(ctx, "/users/me/addresses");
        return createAddress(this, ctx.meta.user!.id, fields, isDefault);
      },
    },

    updateAddress: {
      rest: "PATCH /users/me/addresses/:id",
      openapi: { response: AddressSchema, errors: ["ADDRESS_NOT_FOUND"] },
      summary: "Change an address; isDefault: true makes it the default",
      params: { id, ...partial(addressFields), isDefault: { type: "boolean", optional: true } },
      async handler(this: UsersThis, ctx: Ctx<AddressFields & { id: number; isDefault?: boolean }>) {
        const { id: addressId, isDefault, ...fields } = ctx.params;
        return updateAddress(this, ctx.meta.user!.id, addressId, fields, isDefault);
      },
    },

    deleteAddress: {
      rest: "DELETE /users/me/addresses/:id",
      openapi: { response: DeletedSchema, errors: ["ADDRESS_NOT_FOUND"] },
      summary: "Delete an address; the newest remaining becomes default if needed",
      params: { id },
      async handler(this: UsersThis, ctx: Ctx<{ id: number }>) {
        return deleteAddress(this, ctx.meta.user!.id, ctx.params.id);
      },
    },

    /** Internal: an address for an order snapshot, only if it belongs to the user. */
    getAddress: {
      visibility: "public",
      summary: "Internal: an address for an order snapshot, only if it belongs to the user",
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
      summary: "Internal: public profile by id",
      params: { id: { type: "number", integer: true, positive: true } },
      async handler(this: UsersThis, ctx: Context<{ id: number }>) {
        return publicUser(this, ctx.params.id);
      },
    },

    /** Internal: ids of users (for batch messages). */
    listIds: {
      visibility: "public",
      summary: "Internal: ids of users after afterId, ascending, up to maxId (batch messages page through them)",
      params: {
        afterId: { type: "number", integer: true, min: 0, default: 0 },
        maxId: { type: "number", integer: true, min: 0, optional: true },
        limit: { type: "number", integer: true, min: 1, max: 5000, default: 500 },
      },
      async handler(this: UsersThis, ctx: Context<Required<Pick<ListIdsParams, "afterId" | "limit">> & ListIdsParams>): Promise<number[]> {
        const { afterId, maxId, limit } = ctx.params;
        const id = maxId === undefined ? { [Op.gt]: afterId } : { [Op.gt]: afterId, [Op.lte]: maxId };
        const rows = await this.models.User.findAll({ attributes: ["id"], where: { id }, order: [["id", "ASC"]], limit, raw: true });
        return rows.map((r) => Number(r.id));
      },
    },

    contacts: {
      visibility: "public",
      summary: "Internal: email, mobile, locale and nickname of many users at once (messages)",
      params: { ids: { type: "array", min: 0, max: 5000, items: { type: "number", integer: true, positive: true } } },
      async handler(this: UsersThis, ctx: Context<{ ids: number[] }>): Promise<UserContact[]> {
        if (!ctx.params.ids.length) return [];
        const rows = await this.models.User.findAll({
          attributes: ["id", "username", "nickname", "email", "mobile", "locale", "status"],
          where: { id: [...new Set(ctx.params.ids)] },
          order: [["id", "ASC"]],
          raw: true,
        });
        return rows.map(contactOf);
      },
    },

    staff: {
      visibility: "public",
      summary: "Internal: how to reach every active operator and admin (stock alerts)",
      params: {},
      async handler(this: UsersThis): Promise<UserContact[]> {
        const roles = await this.models.UserRole.findAll({ attributes: ["userId"], where: { role: ["operator", "admin"] }, raw: true });
        const ids = [...new Set(roles.map((r) => Number(r.userId)))];
        if (!ids.length) return [];
        const rows = await this.models.User.findAll({
          attributes: ["id", "username", "nickname", "email", "mobile", "locale", "status"],
          where: { id: ids, status: "ACTIVE" },
          order: [["id", "ASC"]],
          raw: true,
        });
        return rows.map(contactOf);
      },
    },

    audience: {
      visibility: "public",
      summary: "Internal: how many users there are and the highest id (a batch to everyone stops there)",
      params: {},
      async handler(this: UsersThis): Promise<Audience> {
        const [count, maxId] = await Promise.all([this.models.User.count(), this.models.User.max("id")]);
        return { count, maxId: Number(maxId ?? 0) };
      },
    },

    wallet: {
      rest: "GET /users/me/wallet",
      openapi: { response: WalletSchema },
      summary: "My wallet balance and ledger (newest first)",
      params: pageParams,
      async handler(this: UsersThis, ctx: Ctx<{ page: number; pageSize: number }>) {
        return walletPage(this, ctx.meta.user!.id, ctx.params.page, ctx.params.pageSize);
      },
    },

    adminList: {
      rest: "GET /admin/users",
      openapi: { response: UserPageSchema },
      roles: ["operator", "admin"],
      summary: "Search users by username, email, mobile or nickname (admin)",
      params: { q: { type: "string", max: 64, optional: true }, role: { type: "enum", values: [...ROLES], optional: true }, ...pageParams },
      async handler(this: UsersThis, ctx: Ctx<SearchParams>) {
        return searchUsers(this, ctx.params);
      },
    },

    setRoles: {
      rest: "PUT /admin/users/:id/roles",
      openapi: { response: UserSchema, errors: ["USER_NOT_FOUND"] },
      roles: ["admin"],
      summary: "Replace a user's roles (admin only); the user's older access tokens stop within seconds",
      params: { id, roles: { type: "array", min: 1, max: 3, items: { type: "enum", values: [...ROLES] } } },
      async handler(this: UsersThis, ctx: Ctx<{ id: number; roles: string[] }>) {
        return setRoles(this, ctx.meta.user!.id, ctx.params.id, ctx.params.roles);
      },
    },

    setStatus: {
      rest: "PATCH /admin/users/:id/status",
      openapi: { response: UserSchema, errors: ["USER_NOT_FOUND", "CANNOT_DISABLE_SELF"] },
      roles: ["admin"],
      summary: "Enable or disable an account (admin only); disabling ends its sessions and tokens at once",
      params: { id, status: { type: "enum", values: ["ACTIVE", "DISABLED"] } },
      async handler(this: UsersThis, ctx: Ctx<{ id: number; status: "ACTIVE" | "DISABLED" }>) {
        return setStatus(this, ctx.meta.user!.id, ctx.params.id, ctx.params.status);
      },
    },

    revokeSessions: {
      rest: "POST /admin/users/:id/revoke-sessions",
      openapi: { response: RevokedSessionsSchema, errors: ["USER_NOT_FOUND"] },
      roles: ["admin"],
      summary: "End every session of a user (admin only)",
      params: { id },
      async handler(this: UsersThis, ctx: Ctx<{ id: number }>) {
        return revokeAllSessions(this, ctx.meta.user!.id, ctx.params.id);
      },
    },

    adminCredit: {
      rest: "POST /admin/users/:id/wallet/credit",
      openapi: { response: WalletCreditSchema, idempotencyKey: "optional", errors: ["USER_NOT_FOUND", "WALLET_REFERENCE_CONFLICT"] },
      roles: ["admin"],
      // the key is also the ledger reference, so a credit stays single even after its record expires
      idempotent: true,
      summary: "Credit a user's wallet (admin only; Idempotency-Key makes retries safe)",
      params: { id, amount: { type: "number", integer: true, positive: true, max: 100_000_000_00 }, reason: { type: "string", min: 1, max: 255, trim: true } },
      async handler(this: UsersThis, ctx: Ctx<{ id: number; amount: number; reason: string }>) {
        return creditWallet(this, ctx.meta.user!.id, ctx.params, ctx.meta.idempotencyKey);
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

  async created(this: UsersThis) {
    this.cfg = configOf(this);
    this.kv = acquireKv(this.cfg.redisUrl, this.cfg.namespace);
  },

  async started(this: UsersThis) {
    // revocations and epoch bumps shortly before a restart still hold (memory KV starts empty)
    if (this.kv.kind === "memory") await restoreMarkers(this);
    await bootstrapAdmin(this);
  },

  async stopped(this: UsersThis) {
    await releaseKv(this.cfg.redisUrl, this.cfg.namespace);
  },
};

export type { AuthUser };
export default UsersService as unknown as ServiceSchema;
