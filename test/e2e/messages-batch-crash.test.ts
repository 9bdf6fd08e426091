/**
 * A batch to 1,000 users while one of two messages nodes is killed (SIGKILL) mid-way and then
 * started again: every user gets the message exactly once, and the batch reports it complete.
 * Real processes (test/helpers/processes.ts), MariaDB and NATS JetStream.
 */
import crypto from "node:crypto";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { insertUsers } from "../helpers/messages-fixtures";
import { ProcessCluster } from "../helpers/processes";
import { client, loginAdmin, waitFor } from "../helpers/shop";

jest.setTimeout(240_000);

describe("batch send survives a killed messages node (cluster, processes)", () => {
  let cluster: ProcessCluster;
  let db: Sequelize;

  beforeAll(async () => {
    cluster = await ProcessCluster.start(
      [
        { name: "gateway", services: ["api", "users"] },
        { name: "m1", services: ["messages"] },
        { name: "m2", services: ["messages"] },
      ],
      // small chunks: the kill lands while chunks are in flight
      { EXPECTED_SERVICES: "users,messages", MESSAGES_BATCH_CHUNK: "10" },
    );
    db = acquireSequelize(cluster.databaseUrl);
  }, 120_000);

  afterAll(async () => {
    if (db) await releaseSequelize(cluster.databaseUrl);
    await cluster?.stop();
  });

  it("1,000 users, node killed mid-way and restarted: each user gets exactly one message", async () => {
    const ids = await insertUsers(cluster.databaseUrl, 1000);
    const http = client(cluster);
    const admin = await loginAdmin(cluster);
    const code = `crash-${crypto.randomBytes(3).toString("hex")}`;
    const tpl = await http.post("admin/message-templates", { code, channel: "inbox", subject: "Hello {{nickname}}", body: "{{news}}" }, { token: admin });
    expect(tpl.status).toBe(201);

    const r = await http.post("admin/messages/batch", { templateCode: code, userIds: ids, vars: { news: "the crash test" } }, { token: admin });
    expect(r.status).toBe(201);
    expect(r.body.data.queued).toBe(1000);
    const batchId = r.body.data.batchId as string;

    const written = async () =>
      Number((await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM inbox_messages WHERE batch_id = ?", { replacements: [batchId], type: QueryTypes.SELECT }))[0].n);
    await waitFor(async () => (await written()) >= 50, { interval: 10, what: "the batch under way" });
    // counted before the signal: the other node goes on writing while this one dies, and on a
    // quick machine it can finish the batch before the kill has been confirmed
    const beforeKill = await written();
    await cluster.kill("m1");
    expect(beforeKill).toBeLessThan(1000);

    await cluster.startNode("m1");
    const view = await waitFor(
      async () => {
        const v = await http.get(`admin/messages/batches/${batchId}`, { token: admin });
        return v.body.data?.status === "COMPLETED" ? v.body.data : null;
      },
      { timeout: 150_000, interval: 500, what: "batch completed after the kill" },
    );
    expect(view).toMatchObject({ queued: 1000, sent: 1000, failed: 0, skipped: 0, suppressed: 0, pending: 0 });

    const perUser = await db.query<{ user_id: number; n: number }>("SELECT user_id, COUNT(*) AS n FROM inbox_messages WHERE batch_id = ? GROUP BY user_id", {
      replacements: [batchId],
      type: QueryTypes.SELECT,
    });
    expect(perUser).toHaveLength(1000);
    expect(perUser.filter((u) => Number(u.n) !== 1)).toEqual([]);
    expect(perUser.map((u) => Number(u.user_id)).sort((a, b) => a - b)).toEqual(ids);
    const logged = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM message_deliveries WHERE batch_id = ?", { replacements: [batchId], type: QueryTypes.SELECT });
    expect(Number(logged[0].n)).toBe(1000);
    // the first user has no nickname: the username stands in; the others read their own
    const [first] = await db.query<{ subject: string }>("SELECT subject FROM inbox_messages WHERE batch_id = ? AND user_id = ?", { replacements: [batchId, ids[0]], type: QueryTypes.SELECT });
    expect(first.subject).toMatch(/^Hello m[0-9a-f]{6}_0$/);
  });
});
