/** What other services may call on `users` and what it publishes. */
export const UserEvents = { REGISTERED: "user.registered" } as const;

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
