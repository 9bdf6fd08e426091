/**
 * Sequelize models of the messages service (tables created by migrations/0900-messages.ts).
 */
import { DataTypes, ModelStatic, Sequelize } from "sequelize";
import { Row, idType } from "./helpers";

export type Channel = "inbox" | "email" | "sms";
export type Locale = "zh-CN" | "en";
export type Category = "transactional" | "marketing";
export type DeliveryStatus = "PENDING" | "SENDING" | "RETRYING" | "SENT" | "LOGGED" | "FAILED" | "SUPPRESSED" | "SKIPPED";

export interface TemplateAttrs {
  id: number;
  code: string;
  locale: Locale;
  channel: Channel;
  category: Category;
  subject: string;
  body: string;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface InboxAttrs {
  id: number;
  userId: number;
  dedupeKey: string;
  templateCode: string;
  subject: string;
  body: string;
  link: string | null;
  batchId: string | null;
  readAt: Date | null;
  createdAt: Date;
}

export interface DeliveryAttrs {
  id: number;
  dedupeKey: string;
  userId: number | null;
  channel: Channel;
  templateCode: string;
  locale: Locale;
  category: Category;
  recipient: string | null;
  subject: string | null;
  body: string | null;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  provider: string | null;
  providerId: string | null;
  nextAttemptAt: Date | null;
  lockedUntil: Date | null;
  batchId: string | null;
  sentAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface BatchAttrs {
  id: string;
  templateCode: string;
  channel: Channel;
  audience: "USERS" | "ALL";
  /** JSON: the template versions (Effective[]) the batch renders */
  templates: string;
  vars: string;
  link: string | null;
  queued: number;
  maxUserId: number | null;
  createdBy: number | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SettingsAttrs {
  userId: number;
  marketingEmail: boolean;
  marketingSms: boolean;
  updatedAt: Date;
}

export function defineMessagesModels(sequelize: Sequelize) {
  const opts = { underscored: true, freezeTableName: true };
  const id = idType(sequelize);
  const Template = sequelize.define<Row<TemplateAttrs>>(
    "MessageTemplate",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      code: DataTypes.STRING,
      locale: DataTypes.STRING,
      channel: DataTypes.STRING,
      category: DataTypes.STRING,
      subject: DataTypes.STRING,
      body: DataTypes.TEXT,
      enabled: DataTypes.BOOLEAN,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "message_templates" },
  ) as ModelStatic<Row<TemplateAttrs>>;
  const Inbox = sequelize.define<Row<InboxAttrs>>(
    "InboxMessage",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      userId: id,
      dedupeKey: DataTypes.STRING,
      templateCode: DataTypes.STRING,
      subject: DataTypes.STRING,
      body: DataTypes.TEXT,
      link: DataTypes.STRING,
      batchId: DataTypes.STRING,
      readAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
    },
    { ...opts, tableName: "inbox_messages", updatedAt: false },
  ) as ModelStatic<Row<InboxAttrs>>;
  const Delivery = sequelize.define<Row<DeliveryAttrs>>(
    "MessageDelivery",
    {
      id: { type: id, primaryKey: true, autoIncrement: true },
      dedupeKey: DataTypes.STRING,
      userId: id,
      channel: DataTypes.STRING,
      templateCode: DataTypes.STRING,
      locale: DataTypes.STRING,
      category: DataTypes.STRING,
      recipient: DataTypes.STRING,
      subject: DataTypes.STRING,
      body: DataTypes.TEXT,
      status: DataTypes.STRING,
      attempts: DataTypes.INTEGER,
      lastError: DataTypes.STRING,
      provider: DataTypes.STRING,
      providerId: DataTypes.STRING,
      // to the millisecond (migration 0901): a plain DATE is written in whole seconds on MySQL,
      // and a retry due later in this second would be due at once
      nextAttemptAt: DataTypes.DATE(3),
      lockedUntil: DataTypes.DATE(3),
      batchId: DataTypes.STRING,
      sentAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "message_deliveries" },
  ) as ModelStatic<Row<DeliveryAttrs>>;
  const Batch = sequelize.define<Row<BatchAttrs>>(
    "MessageBatch",
    {
      id: { type: DataTypes.STRING, primaryKey: true },
      templateCode: DataTypes.STRING,
      channel: DataTypes.STRING,
      audience: DataTypes.STRING,
      templates: DataTypes.TEXT,
      vars: DataTypes.TEXT,
      link: DataTypes.STRING,
      queued: DataTypes.INTEGER,
      maxUserId: id,
      createdBy: id,
      finishedAt: DataTypes.DATE,
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "message_batches" },
  ) as ModelStatic<Row<BatchAttrs>>;
  const Settings = sequelize.define<Row<SettingsAttrs>>(
    "NotificationSettings",
    {
      userId: { type: id, primaryKey: true },
      marketingEmail: DataTypes.BOOLEAN,
      marketingSms: DataTypes.BOOLEAN,
      updatedAt: DataTypes.DATE,
    },
    { ...opts, tableName: "notification_settings", createdAt: false },
  ) as ModelStatic<Row<SettingsAttrs>>;
  return { Template, Inbox, Delivery, Batch, Settings };
}
export type MessagesModels = ReturnType<typeof defineMessagesModels>;
