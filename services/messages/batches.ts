/**
 * Batch sends: one template to many users.
 *
 * `create` checks everything that could fail for every recipient (template, channel, variables)
 * before anything is queued, stores the batch with a snapshot of the template versions, and
 * writes its first chunks to the outbox in the same transaction; the answer comes at once.
 * Chunks travel on the durable channel `messages.batch` (group messages-batch, bounded
 * maxInFlight): a `users` chunk renders and writes up to MESSAGES_BATCH_CHUNK messages in one
 * transaction together with its event id; a `scan` chunk (all: true) pages through user ids up
 * to the highest id at creation and emits the `users` chunks and the next scan. A node that dies
 * mid-chunk committed nothing of it, so the redelivered chunk starts clean; a chunk that was
 * committed is recognised by its event id, and each row is unique per batch + user + channel.
 * Progress is counted from the delivery log.
 */
import crypto from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { QueryTypes, Sequelize, Transaction } from "sequelize";
import type { EventEnvelope } from "../../mixins/outbox.mixin";
import type { MessagesModels } from "../../models/messages";
import { callAction } from "../shared/actions";
import type { MallConfig } from "../shared/config";
import { withTransaction } from "../shared/db";
import { bizError } from "../shared/errors";
import { UserCalls } from "../users/users.contracts";
import type { Deliverer, Planned } from "./delivery";
import { MAX_TEMPLATE_BYTES, Vars, byteLength } from "./domain/render";
import { BatchChunk, BatchCreatedDto, BatchDto, Channel, MessageChannels, MessageGroups } from "./messages.contracts";
import type { Effective, TemplateStore } from "./template-store";

/** Filled in for each recipient; a batch's vars need not (and may not) give them. */
export const PER_USER_VARS = ["nickname", "username"] as const;
/** userIds given in one request; `all: true` has no limit. */
export const MAX_BATCH_USER_IDS = 10_000;

export interface BatchHost {
  broker: ServiceBroker;
  sequelize: Sequelize;
  models: MessagesModels;
  templates: TemplateStore;
  deliverer: Deliverer;
  cfg: MallConfig;
  logger: { debug(m: string): void; info(m: string): void; warn(m: string): void; error(m: string): void };
  outbox(t: Transaction, channel: string, data: unknown): Promise<unknown>;
  hasProcessed(consumer: string, eventId: string): Promise<boolean>;
  once<T>(consumer: string, eventId: string, fn: (t: Transaction) => Promise<T>): Promise<{ applied: boolean; result?: T }>;
}

export interface BatchParams {
  templateCode: string;
  userIds?: number[];
  all?: boolean;
  vars?: Vars;
  channel?: Channel;
  link?: string;
}

/** The variables every enabled version needs, checked against what the batch gives. */
export function checkVars(host: { templates: TemplateStore }, versions: Effective[], vars: Vars, auto: readonly string[]): void {
  const used = new Set<string>();
  for (const v of versions) {
    const names = host.templates.compiled(v).placeholders;
    names.forEach((n) => used.add(n));
    // a built-in may be given every variable of its notification, used by this channel or not
    v.allowed?.forEach((n) => used.add(n));
    const missing = names.filter((n) => !(n in vars) && !auto.includes(n));
    if (missing.length) throw bizError("TEMPLATE_VARS_MISSING", `missing variables: ${missing.join(", ")} (${v.locale})`, { missing, locale: v.locale });
  }
  const unknown = Object.keys(vars).filter((k) => !used.has(k)).sort();
  if (unknown.length) throw bizError("TEMPLATE_VARS_UNKNOWN", `the template does not use: ${unknown.join(", ")}`, { unknown, uses: [...used].sort() });
}

export function checkVarsSize(vars: Vars): void {
  const bytes = byteLength(JSON.stringify(vars));
  if (bytes > MAX_TEMPLATE_BYTES) throw bizError("TEMPLATE_TOO_LARGE", "the variables are larger than 64 KB", { field: "vars", bytes, limit: MAX_TEMPLATE_BYTES });
}

export async function createBatch(host: BatchHost, adminId: number, p: BatchParams): Promise<BatchCreatedDto> {
  if (!!p.all === !!p.userIds?.length || (p.all && p.userIds)) {
    throw bizError("BATCH_AUDIENCE_INVALID", undefined, { userIds: p.userIds?.length ?? 0, all: !!p.all });
  }
  const variants = await host.templates.variants(p.templateCode);
  if (!variants.length) throw bizError("TEMPLATE_NOT_FOUND", undefined, { code: p.templateCode });
  const channel = variants[0].channel;
  if (p.channel && p.channel !== channel) throw bizError("TEMPLATE_CHANNEL_MISMATCH", `${p.templateCode} is an ${channel} template`, { code: p.templateCode, channel });
  const versions = variants.filter((v) => v.enabled);
  if (!versions.length) throw bizError("TEMPLATE_DISABLED", undefined, { code: p.templateCode });
  const vars = p.vars ?? {};
  checkVarsSize(vars);
  checkVars(host, versions, vars, PER_USER_VARS);

  const userIds = p.userIds ? [...new Set(p.userIds)] : [];
  const audience = p.all ? await callAction(host.broker, UserCalls.audience, {}) : null;
  const queued = audience ? audience.count : userIds.length;
  const batchId = crypto.randomUUID();
  const chunk = host.cfg.messages.batchChunk;
  await withTransaction(host.sequelize, async (t) => {
    const now = new Date();
    await host.models.Batch.create(
      {
        id: batchId,
        templateCode: p.templateCode,
        channel,
        audience: p.all ? "ALL" : "USERS",
        templates: JSON.stringify(versions),
        vars: JSON.stringify(vars),
        link: p.link ?? null,
        queued,
        maxUserId: audience?.maxId ?? null,
        createdBy: adminId,
        finishedAt: null,
        createdAt: now,
        updatedAt: now,
      },
      { transaction: t },
    );
    if (audience) {
      if (audience.count > 0) await host.outbox(t, MessageChannels.BATCH, { batchId, kind: "scan", afterId: 0 } satisfies BatchChunk);
      return;
    }
    for (let i = 0, seq = 0; i < userIds.length; i += chunk, seq++) {
      await host.outbox(t, MessageChannels.BATCH, { batchId, kind: "users", seq, userIds: userIds.slice(i, i + chunk) } satisfies BatchChunk);
    }
  });
  host.logger.info(`batch ${batchId}: ${p.templateCode} (${channel}) to ${queued} users queued by admin ${adminId}`);
  return { batchId, queued };
}

export async function onBatchChunk(host: BatchHost, env: EventEnvelope<BatchChunk>): Promise<void> {
  const c = env?.data;
  if (!env?.eventId || typeof c?.batchId !== "string") {
    host.logger.error(`messages.batch: malformed chunk, skipped: ${JSON.stringify(env)?.slice(0, 300)}`);
    return;
  }
  if (await host.hasProcessed(MessageGroups.BATCH, env.eventId)) return;
  const batch = await host.models.Batch.findByPk(c.batchId, { raw: true });
  if (!batch) {
    host.logger.error(`messages.batch: batch ${c.batchId} does not exist; chunk skipped`);
    return;
  }
  if (c.kind === "scan") {
    const limit = host.cfg.messages.batchChunk;
    const ids = await callAction(host.broker, UserCalls.listIds, { afterId: c.afterId, maxId: Number(batch.maxUserId ?? 0), limit });
    await host.once(MessageGroups.BATCH, env.eventId, async (t) => {
      if (ids.length) await host.outbox(t, MessageChannels.BATCH, { batchId: c.batchId, kind: "users", seq: c.afterId, userIds: ids } satisfies BatchChunk);
      if (ids.length === limit) await host.outbox(t, MessageChannels.BATCH, { batchId: c.batchId, kind: "scan", afterId: ids[ids.length - 1] } satisfies BatchChunk);
    });
    return;
  }
  const t0 = Date.now();
  const versions = JSON.parse(batch.templates) as Effective[];
  const vars = JSON.parse(batch.vars) as Vars;
  const contacts = await callAction(host.broker, UserCalls.contacts, { ids: c.userIds });
  const byId = new Map(contacts.map((u) => [u.id, u]));
  const settings = await host.deliverer.settingsOf(c.userIds);
  const items: Planned[] = c.userIds.map((id) => {
    const u = byId.get(id);
    return {
      key: `batch:${batch.id}`,
      user: u ?? { id, missing: true },
      templates: [versions],
      link: batch.link,
      batchId: batch.id,
      vars: u ? { ...vars, nickname: u.nickname || u.username, username: u.username } : vars,
    };
  });
  const t1 = Date.now();
  const plan = host.deliverer.plan(items, settings);
  const t2 = Date.now();
  await host.once(MessageGroups.BATCH, env.eventId, (t) => host.deliverer.write(t, plan));
  host.logger.debug(`batch ${batch.id} chunk ${c.seq}: ${c.userIds.length} users; lookups ${t1 - t0} ms, render ${t2 - t1} ms, write ${Date.now() - t2} ms`);
}

export async function batchView(host: BatchHost, id: string): Promise<BatchDto> {
  const b = await host.models.Batch.findByPk(id, { raw: true });
  if (!b) throw bizError("BATCH_NOT_FOUND", undefined, { id });
  const rows = await host.sequelize.query<{ status: string; n: number | string }>(
    "SELECT status, COUNT(*) AS n FROM message_deliveries WHERE batch_id = ? GROUP BY status",
    { replacements: [id], type: QueryTypes.SELECT },
  );
  const n = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  const sent = n("SENT") + n("LOGGED");
  const failed = n("FAILED");
  const suppressed = n("SUPPRESSED");
  const skipped = n("SKIPPED");
  const pending = n("PENDING") + n("SENDING") + n("RETRYING");
  const done = sent + failed + suppressed + skipped >= Number(b.queued) && pending === 0;
  let finishedAt = b.finishedAt ? new Date(b.finishedAt) : null;
  if (done && !finishedAt) {
    finishedAt = new Date();
    await host.models.Batch.update({ finishedAt, updatedAt: finishedAt }, { where: { id, finishedAt: null } });
  }
  return {
    batchId: b.id,
    status: done ? "COMPLETED" : "RUNNING",
    templateCode: b.templateCode,
    channel: b.channel,
    queued: Number(b.queued),
    sent,
    failed,
    suppressed,
    skipped,
    pending,
    createdAt: new Date(b.createdAt).toISOString(),
    finishedAt: finishedAt ? finishedAt.toISOString() : null,
  };
}
