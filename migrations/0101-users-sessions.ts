/**
 * Sessions become rows of their own. Before, a session was only the set of refresh tokens sharing
 * a family id, and rotation, reuse detection and logout each updated token rows independently,
 * so a refresh racing a logout (or a replay) could leave a fresh token alive in a revoked family.
 * Now one `sessions` row per family decides, by compare-and-set: which token is current, whether
 * the family is revoked. `refresh_tokens` stays as the log of issued tokens (id → session, hash);
 * its `status` / `revoked_at` are no longer maintained.
 *
 * `users.session_epoch` is bumped whenever every access token of a user must stop working
 * (disabled, sessions revoked, roles changed); access tokens carry the epoch they were issued in.
 * `user_audit` records who changed an account's status, roles or sessions.
 */
import { DataTypes, QueryInterface } from "sequelize";
import { pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  await qi.createTable("sessions", {
    id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
    user_id: ref(qi),
    status: { type: DataTypes.STRING(16), allowNull: false },
    generation: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    current_token_id: { type: DataTypes.STRING(36), allowNull: false },
    current_issued_at: { type: DataTypes.DATE, allowNull: false },
    previous_token_id: { type: DataTypes.STRING(36), allowNull: true },
    expires_at: { type: DataTypes.DATE, allowNull: false },
    revoked_at: { type: DataTypes.DATE, allowNull: true },
    revoke_reason: { type: DataTypes.STRING(32), allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("sessions", ["user_id", "status"], { name: "sessions_user" });
  await qi.addIndex("sessions", ["revoked_at"], { name: "sessions_revoked" });

  await qi.addColumn("users", "session_epoch", { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 });
  await qi.addColumn("users", "session_epoch_at", { type: DataTypes.DATE, allowNull: true });
  await qi.addIndex("users", ["session_epoch_at"], { name: "users_session_epoch_at" });

  await qi.createTable("user_audit", {
    id: pk(qi),
    user_id: ref(qi),
    actor_id: ref(qi, true),
    action: { type: DataTypes.STRING(32), allowNull: false },
    detail: { type: DataTypes.TEXT, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("user_audit", ["user_id", "id"], { name: "user_audit_user" });

  // Existing families carry over: a family with exactly one ACTIVE token and none REVOKED stays
  // logged in with that token current; anything else (including the state the old race could
  // leave: an ACTIVE token beside REVOKED ones) starts out revoked.
  await qi.sequelize.query(`
    INSERT INTO sessions (id, user_id, status, generation, current_token_id, current_issued_at, previous_token_id,
                          expires_at, revoked_at, revoke_reason, created_at, updated_at)
    SELECT family_id,
           MIN(user_id),
           CASE WHEN SUM(CASE WHEN status = 'ACTIVE' THEN 1 ELSE 0 END) = 1
                 AND SUM(CASE WHEN status = 'REVOKED' THEN 1 ELSE 0 END) = 0 THEN 'ACTIVE' ELSE 'REVOKED' END,
           COUNT(*) - 1,
           COALESCE(MAX(CASE WHEN status = 'ACTIVE' THEN id END), MAX(id)),
           COALESCE(MAX(CASE WHEN status = 'ACTIVE' THEN created_at END), MAX(created_at)),
           NULL,
           MAX(expires_at),
           CASE WHEN SUM(CASE WHEN status = 'ACTIVE' THEN 1 ELSE 0 END) = 1
                 AND SUM(CASE WHEN status = 'REVOKED' THEN 1 ELSE 0 END) = 0 THEN NULL
                ELSE COALESCE(MAX(revoked_at), MAX(updated_at)) END,
           CASE WHEN SUM(CASE WHEN status = 'ACTIVE' THEN 1 ELSE 0 END) = 1
                 AND SUM(CASE WHEN status = 'REVOKED' THEN 1 ELSE 0 END) = 0 THEN NULL ELSE 'MIGRATED' END,
           MIN(created_at),
           MAX(updated_at)
      FROM refresh_tokens
     GROUP BY family_id`);
}

export async function down({ context: qi }: { context: QueryInterface }) {
  await qi.dropTable("user_audit");
  await qi.removeIndex("users", "users_session_epoch_at");
  await qi.removeColumn("users", "session_epoch_at");
  await qi.removeColumn("users", "session_epoch");
  await qi.dropTable("sessions");
}
