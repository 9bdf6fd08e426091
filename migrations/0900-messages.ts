/**
 * Messages: templates admins wrote or overrode (the shipped defaults live in code), the inbox,
 * the delivery log of every send (inbox, email, SMS), batch sends and the users' notification
 * settings.
 *
 * Exactly-once is a unique key: `dedupe_key` names the fact being told (an event, a batch) plus
 * the user and the channel, so a redelivered event or a re-run batch chunk inserts nothing.
 * Email and SMS rows are claimed for sending by compare-and-set on `status` (PENDING/RETRYING →
 * SENDING with `locked_until`), so two nodes never send one row at once; a row left SENDING by a
 * node that died is taken again once its lock has passed.
 */
import { DataTypes, QueryInterface } from "sequelize";
import { pk, ref, timestamps } from "./helpers";

export async function up({ context: qi }: { context: QueryInterface }) {
  const mysql = qi.sequelize.getDialect() !== "sqlite";
  // bodies may be up to 64 KB of UTF-8: more than MySQL's TEXT (65,535 bytes) holds
  const longText = mysql ? DataTypes.TEXT("medium") : DataTypes.TEXT;
  const key = { type: DataTypes.STRING(191), allowNull: false };
  const code = { type: DataTypes.STRING(64), allowNull: false };
  const short = { type: DataTypes.STRING(16), allowNull: false };
  const batchId = { type: DataTypes.STRING(36), allowNull: true };

  await qi.createTable("message_templates", {
    id: pk(qi),
    code,
    locale: { type: DataTypes.STRING(8), allowNull: false },
    channel: { type: DataTypes.STRING(8), allowNull: false },
    category: short,
    subject: { type: DataTypes.STRING(255), allowNull: false },
    body: { type: longText, allowNull: false },
    enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    ...timestamps(),
  });
  await qi.addIndex("message_templates", ["code", "locale"], { name: "message_templates_code", unique: true });

  await qi.createTable("inbox_messages", {
    id: pk(qi),
    user_id: ref(qi),
    dedupe_key: key,
    template_code: code,
    subject: { type: DataTypes.STRING(255), allowNull: false },
    body: { type: longText, allowNull: false },
    link: { type: DataTypes.STRING(255), allowNull: true },
    batch_id: batchId,
    read_at: { type: DataTypes.DATE, allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex("inbox_messages", ["dedupe_key"], { name: "inbox_messages_dedupe", unique: true });
  await qi.addIndex("inbox_messages", ["user_id", "id"], { name: "inbox_messages_user" });
  await qi.addIndex("inbox_messages", ["user_id", "read_at"], { name: "inbox_messages_unread" });

  await qi.createTable("message_deliveries", {
    id: pk(qi),
    dedupe_key: key,
    user_id: ref(qi, true),
    channel: { type: DataTypes.STRING(8), allowNull: false },
    template_code: code,
    locale: { type: DataTypes.STRING(8), allowNull: false },
    category: short,
    recipient: { type: DataTypes.STRING(254), allowNull: true },
    subject: { type: DataTypes.STRING(255), allowNull: true },
    // the rendered email (HTML) or SMS text; an inbox row's message has the same dedupe_key
    body: { type: longText, allowNull: true },
    status: short,
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    last_error: { type: DataTypes.STRING(500), allowNull: true },
    provider: { type: DataTypes.STRING(16), allowNull: true },
    provider_id: { type: DataTypes.STRING(255), allowNull: true },
    next_attempt_at: { type: DataTypes.DATE, allowNull: true },
    locked_until: { type: DataTypes.DATE, allowNull: true },
    batch_id: batchId,
    sent_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });
  await qi.addIndex("message_deliveries", ["dedupe_key"], { name: "message_deliveries_dedupe", unique: true });
  await qi.addIndex("message_deliveries", ["status", "next_attempt_at"], { name: "message_deliveries_due" });
  await qi.addIndex("message_deliveries", ["batch_id", "status"], { name: "message_deliveries_batch" });
  await qi.addIndex("message_deliveries", ["user_id", "id"], { name: "message_deliveries_user" });

  await qi.createTable("message_batches", {
    id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
    template_code: code,
    channel: { type: DataTypes.STRING(8), allowNull: false },
    audience: short,
    // what was previewed is what is sent: the enabled locale versions, as they were at creation
    templates: { type: longText, allowNull: false },
    vars: { type: DataTypes.TEXT, allowNull: false },
    link: { type: DataTypes.STRING(255), allowNull: true },
    queued: { type: DataTypes.INTEGER, allowNull: false },
    max_user_id: ref(qi, true),
    created_by: ref(qi, true),
    finished_at: { type: DataTypes.DATE, allowNull: true },
    ...timestamps(),
  });

  await qi.createTable("notification_settings", {
    user_id: { ...ref(qi), primaryKey: true },
    marketing_email: { type: DataTypes.BOOLEAN, allowNull: false },
    marketing_sms: { type: DataTypes.BOOLEAN, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });
}

export async function down({ context: qi }: { context: QueryInterface }) {
  for (const t of ["notification_settings", "message_batches", "message_deliveries", "inbox_messages", "message_templates"]) await qi.dropTable(t);
}
