/** What other services may call on `users` and what it publishes. */
import { Page, s, schemaOf } from "../shared/schema";
import { action } from "../shared/actions";

export const UserEvents = { REGISTERED: "user.registered" } as const;

/** Internal actions other services call. */
export const UserActions = {
  /** an address, only if it belongs to userId (GetAddressParams → AddressDto) */
  GET_ADDRESS: "users.getAddress",
  /** a user's public profile ({ id } → PublicUser) */
  GET: "users.get",
  /** how to reach many users at once (ContactsParams → UserContact[]) */
  CONTACTS: "users.contacts",
  /** how to reach every active operator and admin (→ UserContact[]) */
  STAFF: "users.staff",
  /** how many users there are now and the highest id (→ Audience) */
  AUDIENCE: "users.audience",
  /** ids of users after `afterId`, ascending, up to `maxId` (ListIdsParams → number[]) */
  LIST_IDS: "users.listIds",
} as const;

/** The languages messages are written in; every user reads one. */
export const USER_LOCALES = ["zh-CN", "en"] as const;
export type UserLocale = (typeof USER_LOCALES)[number];

/** users.contacts / users.staff (internal): what messages needs to reach a user. */
export interface UserContact {
  id: number;
  username: string;
  nickname: string | null;
  email: string;
  mobile: string | null;
  locale: UserLocale;
  status: string;
}
export interface ContactsParams {
  ids: number[];
}
export interface Audience {
  count: number;
  maxId: number;
}
export interface ListIdsParams {
  afterId?: number;
  maxId?: number;
  limit?: number;
}

/**
 * Broker broadcast (cache invalidation only, DESIGN "Events"): access tokens of `userId` issued
 * before `epoch` are void. Gateways apply it at once; the KV marker is what guarantees it.
 */
export const SESSION_EPOCH_CHANGED = "user.epoch.changed";
export interface SessionEpochChanged {
  userId: number;
  epoch: number;
}

export interface PublicUser {
  id: number;
  username: string;
  email: string;
  mobile: string | null;
  nickname: string | null;
  avatarUrl: string | null;
  /** the language messages to this user are written in */
  locale: UserLocale;
  roles: string[];
  status: string;
  createdAt: string;
}

export interface AddressDto {
  id: number;
  name: string;
  mobile: string;
  province: string;
  city: string;
  district: string;
  detail: string;
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface WalletEntryDto {
  id: number;
  amount: number;
  balanceAfter: number;
  type: "CREDIT" | "DEBIT";
  reason: string;
  reference: string | null;
  createdAt: string;
}

/** users.walletDebit / users.walletCredit (internal; idempotent per reference). */
export interface WalletMoveParams {
  userId: number;
  amount: number;
  reference: string;
  reason: string;
}
export interface WalletMoveResult {
  userId: number;
  balance: number;
  currency: string;
  entry: WalletEntryDto;
  /** false when the reference had already been applied (a retry) */
  applied: boolean;
}

/** users.getAddress (internal): an address only if it belongs to userId. */
export interface GetAddressParams {
  userId: number;
  addressId: number;
}

/** POST /auth/refresh; login adds the user. */
export interface SessionTokens {
  accessToken: string;
  /** opaque; rotates on every use */
  refreshToken: string;
  tokenType: "Bearer";
  /** access token lifetime, seconds */
  expiresIn: number;
}
export interface LoginResult extends SessionTokens {
  user: PublicUser;
}

/** GET /users/me/wallet: the balance and one page of the ledger, newest first. */
export interface WalletView {
  balance: number;
  currency: string;
  entries: WalletEntryDto[];
  total: number;
  page: number;
  pageSize: number;
}

/** POST /admin/users/:id/wallet/credit */
export interface WalletCreditResult {
  balance: number;
  currency: string;
  entry: WalletEntryDto;
  /** false when the Idempotency-Key had already been applied */
  applied: boolean;
}

// ── response schemas (OpenAPI), checked against the types above by tsc ─────────────────────

const id = s.integer({ minimum: 1 });

export const UserSchema = schemaOf<PublicUser>()(
  s.named(
    "User",
    s.object({
      id,
      username: s.string(),
      email: s.string({ format: "email" }),
      mobile: s.nullable(s.string()),
      nickname: s.nullable(s.string()),
      avatarUrl: s.nullable(s.string()),
      locale: s.enum(USER_LOCALES),
      roles: s.array(s.string()),
      status: s.string(),
      createdAt: s.dateTime(),
    }),
  ),
);

export const AddressSchema = schemaOf<AddressDto>()(
  s.named(
    "Address",
    s.object({
      id,
      name: s.string(),
      mobile: s.string(),
      province: s.string(),
      city: s.string(),
      district: s.string(),
      detail: s.string(),
      isDefault: s.boolean(),
      createdAt: s.dateTime(),
      updatedAt: s.dateTime(),
    }),
  ),
);

const WalletEntrySchema = schemaOf<WalletEntryDto>()(
  s.named(
    "WalletEntry",
    s.object({
      id,
      amount: s.money(),
      balanceAfter: s.money(),
      type: s.enum(["CREDIT", "DEBIT"]),
      reason: s.string(),
      reference: s.nullable(s.string()),
      createdAt: s.dateTime(),
    }),
  ),
);

const sessionFields = {
  accessToken: s.string(),
  refreshToken: s.string(),
  tokenType: s.enum(["Bearer"]),
  expiresIn: s.integer({ description: "access token lifetime, seconds" }),
};
export const SessionTokensSchema = schemaOf<SessionTokens>()(s.named("SessionTokens", s.object(sessionFields)));
export const LoginResultSchema = schemaOf<LoginResult>()(s.named("LoginResult", s.object({ ...sessionFields, user: UserSchema })));

export const WalletSchema = schemaOf<WalletView>()(
  s.named(
    "Wallet",
    s.object({
      balance: s.money(),
      currency: s.string(),
      entries: s.array(WalletEntrySchema),
      total: s.integer({ minimum: 0 }),
      page: s.integer({ minimum: 1 }),
      pageSize: s.integer({ minimum: 1 }),
    }),
  ),
);

export const WalletCreditSchema = schemaOf<WalletCreditResult>()(
  s.object({ balance: s.money(), currency: s.string(), entry: WalletEntrySchema, applied: s.boolean() }),
);

export const UserPageSchema = schemaOf<Page<PublicUser>>()(s.page(UserSchema));
export const LoggedOutSchema = schemaOf<{ loggedOut: boolean }>()(s.object({ loggedOut: s.boolean() }));
export const PasswordChangedSchema = schemaOf<{ changed: boolean; revokedSessions: number }>()(
  s.object({ changed: s.boolean(), revokedSessions: s.integer({ minimum: 0 }) }),
);
export const RevokedSessionsSchema = schemaOf<{ revokedSessions: number }>()(s.object({ revokedSessions: s.integer() }));
export const DeletedSchema = schemaOf<{ deleted: boolean }>()(s.object({ deleted: s.boolean() }));

/** Typed descriptors of users' internal actions (services/shared/actions.ts). */
export const UserCalls = {
  getAddress: action<GetAddressParams, AddressDto>(UserActions.GET_ADDRESS),
  get: action<{ id: number }, PublicUser>(UserActions.GET),
  walletDebit: action<WalletMoveParams, WalletMoveResult>("users.walletDebit"),
  walletCredit: action<WalletMoveParams, WalletMoveResult>("users.walletCredit"),
  contacts: action<ContactsParams, UserContact[]>(UserActions.CONTACTS),
  staff: action<Record<string, never>, UserContact[]>(UserActions.STAFF),
  audience: action<Record<string, never>, Audience>(UserActions.AUDIENCE),
  listIds: action<ListIdsParams, number[]>(UserActions.LIST_IDS),
} as const;
