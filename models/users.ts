/**
 * Sequelize models of the users service (tables created by migrations/0100-users.ts and
 * 0101-users-sessions.ts).
 * Models are defined per Sequelize instance (not as global classes), so one process can hold
 * nodes bound to different databases.
 */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import { Row, bigintNumber, idType } from "./helpers";

export interface UserAttrs {
  id: number;
  username: string;
  usernameNorm: string;
  email: string;
  mobile: string | null;
  passwordHash: string;
  nickname: string | null;
  avatarUrl: string | null;
  /** "zh-CN" | "en" (0102): the language of the user's messages */
  locale: string;
  status: string;
  /** bumped when every access token of the user must stop working (tokens carry it as `ep`) */
  sessionEpoch: number;
  sessionEpochAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
export interface AddressAttrs {
  id: number;
  userId: number;
  name: string;
  mobile: string;
  province: string;
  city: string;
  district: string;
  detail: string;
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
}
/** Log of issued refresh tokens: id → session and the hash of its secret. The session decides. */
export interface RefreshTokenAttrs {
  id: string;
  familyId: string;
  userId: number;
  tokenHash: string;
  /** legacy (before 0101); new rows say ISSUED and the session row holds the state */
  status: string;
  expiresAt: Date;
}
/** One login: the refresh-token family. Every change to it is a compare-and-set on this row. */
export interface SessionAttrs {
  id: string;
  userId: number;
  status: "ACTIVE" | "REVOKED";
  generation: number;
  currentTokenId: string;
  currentIssuedAt: Date;
  previousTokenId: string | null;
  expiresAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}
export interface AuditAttrs {
  id: number;
  userId: number;
  actorId: number | null;
  action: string;
  detail: string | null;
  createdAt: Date;
}
export interface WalletAttrs {
  userId: number;
  balance: number;
  currency: string;
}
export interface WalletEntryAttrs {
  id: number;
  userId: number;
  amount: number;
  balanceAfter: number;
  type: "CREDIT" | "DEBIT";
  reason: string;
  reference: string | null;
  createdAt: Date;
}

export function defineUserModels(sequelize: Sequelize) {
  const opts = { underscored: true, freezeTableName: true };
  const id = idType(sequelize);
  const User = sequelize.define<Row<UserAttrs>>(
    "User",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      username: DataTypes.STRING,
      usernameNorm: DataTypes.STRING,
      email: DataTypes.STRING,
      mobile: DataTypes.STRING,
      passwordHash: DataTypes.STRING,
      nickname: DataTypes.STRING,
      avatarUrl: DataTypes.STRING,
      locale: DataTypes.STRING,
      status: DataTypes.STRING,
      sessionEpoch: DataTypes.INTEGER,
      sessionEpochAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "users" },
  ) as ModelStatic<Row<UserAttrs>>;
  const UserRole = sequelize.define<Row<{ userId: number; role: string }>>(
    "UserRole",
    { userId: { type: id, primaryKey: true }, role: { type: DataTypes.STRING, primaryKey: true } },
    { ...opts, tableName: "user_roles", timestamps: false },
  );
  const Address = sequelize.define<Row<AddressAttrs>>(
    "Address",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      userId: id,
      name: DataTypes.STRING,
      mobile: DataTypes.STRING,
      province: DataTypes.STRING,
      city: DataTypes.STRING,
      district: DataTypes.STRING,
      detail: DataTypes.STRING,
      isDefault: DataTypes.BOOLEAN,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "addresses" },
  );
  const RefreshToken = sequelize.define<Row<RefreshTokenAttrs>>(
    "RefreshToken",
    {
      id: { type: DataTypes.STRING, primaryKey: true },
      familyId: DataTypes.STRING,
      userId: id,
      tokenHash: DataTypes.STRING,
      status: DataTypes.STRING,
      expiresAt: DataTypes.DATE,
    },
    { ...opts, tableName: "refresh_tokens" },
  );
  const Session = sequelize.define<Row<SessionAttrs>>(
    "Session",
    {
      id: { type: DataTypes.STRING, primaryKey: true },
      userId: id,
      status: DataTypes.STRING,
      generation: DataTypes.INTEGER,
      currentTokenId: DataTypes.STRING,
      currentIssuedAt: DataTypes.DATE,
      previousTokenId: DataTypes.STRING,
      expiresAt: DataTypes.DATE,
      revokedAt: DataTypes.DATE,
      revokeReason: DataTypes.STRING,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "sessions" },
  );
  const Audit = sequelize.define<Row<AuditAttrs>>(
    "Audit",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      userId: id,
      actorId: id,
      action: DataTypes.STRING,
      detail: DataTypes.TEXT,
      createdAt: DataTypes.DATE,
    },
    { ...opts, tableName: "user_audit", updatedAt: false },
  );
  const Wallet = sequelize.define<Row<WalletAttrs>>(
    "Wallet",
    { userId: { type: id, primaryKey: true }, balance: bigintNumber("balance"), currency: DataTypes.STRING },
    { ...opts, tableName: "wallets" },
  );
  const WalletEntry = sequelize.define<Row<WalletEntryAttrs>>(
    "WalletEntry",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      userId: id,
      amount: bigintNumber("amount"),
      balanceAfter: bigintNumber("balanceAfter"),
      type: DataTypes.STRING,
      reason: DataTypes.STRING,
      reference: DataTypes.STRING,
      createdAt: DataTypes.DATE,
    },
    { ...opts, tableName: "wallet_ledger", updatedAt: false },
  );
  return { User, UserRole, Address, RefreshToken, Session, Audit, Wallet, WalletEntry };
}
export type UserModels = ReturnType<typeof defineUserModels>;
