/** Users, roles, addresses, refresh-token sessions, wallets and the append-only wallet ledger. */
import { DataTypes, QueryInterface } from "sequelize";
import { money, pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("users", {
    id: pk(qi),
    username: { type: DataTypes.STRING(32), allowNull: false },
    username_norm: { type: DataTypes.STRING(32), allowNull: false, unique: true },
    email: { type: DataTypes.STRING(254), allowNull: false, unique: true },
    mobile: { type: DataTypes.STRING(20), allowNull: true, unique: true },
    password_hash: { type: DataTypes.STRING(255), allowNull: false },
    nickname: { type: DataTypes.STRING(64), allowNull: true },
    avatar_url: { type: DataTypes.STRING(512), allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: "ACTIVE" },
    ...timestamps(),
  });
  await qi.createTable("user_roles", {
    user_id: { ...ref(qi), primaryKey: true },
    role: { type: DataTypes.STRING(16), allowNull: false, primaryKey: true },
  });
  await qi.addIndex("user_roles", ["role", "user_id"], { name: "user_roles_by_role" });
  await qi.createTable("addresses", {
    id: pk(qi),
    user_id: ref(qi),
    name: { type: DataTypes.STRING(64), allowNull: false },
    mobile: { type: DataTypes.STRING(20), allowNull: false },
    province: { type: DataTypes.STRING(64), allowNull: false },
    city: { type: DataTypes.STRING(64), allowNull: false },
    district: { type: DataTypes.STRING(64), allowNull: false },
    detail: { type: DataTypes.STRING(255), allowNull: false },
    is_default: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    ...timestamps(),
  });
  await qi.addIndex("addresses", ["user_id"], { name: "addresses_user" });
  await qi.createTable("refresh_tokens", {
    id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
    family_id: { type: DataTypes.STRING(36), allowNull: false },
    user_id: ref(qi),
    token_hash: { type: DataTypes.STRING(64), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    revoked_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("refresh_tokens", ["family_id"], { name: "refresh_tokens_family" });
  await qi.addIndex("refresh_tokens", ["user_id", "status"], { name: "refresh_tokens_user" });
  await qi.addIndex("refresh_tokens", ["revoked_at"], { name: "refresh_tokens_revoked" });
  await qi.createTable("wallets", {
    user_id: { ...ref(qi), primaryKey: true },
    balance: money(),
    currency: { type: DataTypes.STRING(3), allowNull: false, defaultValue: "CNY" },
    ...timestamps(),
  });
  await qi.createTable("wallet_ledger", {
    id: pk(qi),
    user_id: ref(qi),
    amount: money(false, undefined),
    balance_after: money(false, undefined),
    type: { type: DataTypes.STRING(16), allowNull: false },
    reason: { type: DataTypes.STRING(255), allowNull: false },
    reference: { type: DataTypes.STRING(128), allowNull: true, unique: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("wallet_ledger", ["user_id", "id"], { name: "wallet_ledger_user" });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  for (const t of ["wallet_ledger", "wallets", "refresh_tokens", "addresses", "user_roles", "users"]) await qi.dropTable(t);
}
