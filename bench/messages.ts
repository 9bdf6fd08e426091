/**
 * Batch send throughput: an inbox batch to every user (100,000 by default) on a cluster of real
 * processes (gateway + users, and messages on its own node), MariaDB and NATS JetStream. Reports
 * messages/s (inbox message + delivery-log row per user) from the POST until GET
 * /admin/messages/batches/:id says COMPLETED, and the latency of another request served meanwhile
 * (GET /users/me/messages by the admin) against the same request with no batch running: the batch
 * must not block anything else.
 *
 *   npm run bench:messages          BENCH_USERS=100000 BENCH_RUNS=3 BENCH_NODES=1 MESSAGES_BATCH_CHUNK=500
 */
import { QueryTypes } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../services/shared/db";
import { insertUsers } from "../test/helpers/messages-fixtures";
import { ProcessCluster } from "../test/helpers/processes";
import { client, loginAdmin } from "../test/helpers/shop";
import { machine, median, writeSection } from "./lib";

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const NODES = Number(process.env.BENCH_NODES ?? 1);
const CHUNK = process.env.MESSAGES_BATCH_CHUNK ?? "500";

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Latencies of GET /users/me/messages, one request after another, until `stop()`. */
function probeLatency(url: string, token: string) {
  const latencies: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t = performance.now();
      const r = await fetch(`${url}/api/v1/users/me/messages?pageSize=20`, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      latencies.push(performance.now() - t);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return latencies.sort((a, b) => a - b);
    },
  };
}

async function main() {
  const specs = [
    { name: "gateway", services: ["api", "users"] },
    ...Array.from({ length: NODES }, (_, i) => ({ name: `messages${i + 1}`, services: ["messages"] })),
  ];
  console.log(`${machine()}\nstarting ${specs.length} node processes…`);
  const cluster = await ProcessCluster.start(specs, { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "error", RATE_LIMIT_ENABLED: "false", EXPECTED_SERVICES: "users,messages", MESSAGES_BATCH_CHUNK: CHUNK });
  const db = acquireSequelize(cluster.databaseUrl);
  try {
    console.log(`inserting ${USERS} users…`);
    await insertUsers(cluster.databaseUrl, USERS - 1, { chunk: 2000 });
    const http = client(cluster);
    const admin = await loginAdmin(cluster);
    const tpl = await http.post("admin/message-templates", { code: "bench-news", channel: "inbox", subject: "Hello {{nickname}}", body: "{{news}} — for {{username}}" }, { token: admin });
    if (tpl.status !== 201) throw new Error(`template: ${tpl.status} ${tpl.text}`);

    const idle = probeLatency(cluster.url, admin);
    await new Promise((r) => setTimeout(r, 5000));
    const idleLat = await idle.stop();
    console.log(`idle: GET /users/me/messages p50 ${pct(idleLat, 50).toFixed(1)} ms, p99 ${pct(idleLat, 99).toFixed(1)} ms (${idleLat.length} requests)`);

    const rates: number[] = [];
    const busyP50: number[] = [];
    const busyP99: number[] = [];
    let queued = 0;
    for (let run = 1; run <= RUNS; run++) {
      const probe = probeLatency(cluster.url, admin);
      const t0 = performance.now();
      const r = await http.post("admin/messages/batch", { templateCode: "bench-news", all: true, vars: { news: `run ${run}` } }, { token: admin });
      if (r.status !== 201) throw new Error(`batch: ${r.status} ${r.text}`);
      const answeredMs = performance.now() - t0;
      queued = r.body.data.queued;
      for (;;) {
        const v = await http.get(`admin/messages/batches/${r.body.data.batchId}`, { token: admin });
        if (v.body.data.status === "COMPLETED") break;
        await new Promise((res) => setTimeout(res, 250));
      }
      const seconds = (performance.now() - t0) / 1000;
      const lat = await probe.stop();
      const [{ n }] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM inbox_messages WHERE batch_id = ?", { replacements: [r.body.data.batchId], type: QueryTypes.SELECT });
      if (Number(n) !== queued) throw new Error(`run ${run}: ${n} inbox messages for ${queued} users`);
      rates.push(queued / seconds);
      busyP50.push(pct(lat, 50));
      busyP99.push(pct(lat, 99));
      console.log(
        `run ${run}: ${queued} messages in ${seconds.toFixed(1)} s = ${(queued / seconds).toFixed(0)} messages/s (POST answered in ${answeredMs.toFixed(0)} ms); ` +
          `GET /users/me/messages meanwhile p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms (${lat.length} requests)`,
      );
    }
    const rate = median(rates);
    console.log(`median: ${rate.toFixed(0)} messages/s`);
    writeSection(
      "Messages: inbox batch to every user",
      `
| command | result |
|---|---|
| \`npm run bench:messages\` (BENCH_USERS=${USERS}, ${NODES} messages node${NODES > 1 ? "s" : ""}, MESSAGES_BATCH_CHUNK=${CHUNK}, ${RUNS} runs) | **${rate.toFixed(0)} messages/s** median (runs: ${rates.map((x) => x.toFixed(0)).join(", ")}); ${queued} users per batch, each an inbox message and a delivery-log row |
| another request meanwhile: \`GET /users/me/messages\`, one at a time | idle p50 ${pct(idleLat, 50).toFixed(1)} ms / p99 ${pct(idleLat, 99).toFixed(1)} ms; during the batch p50 ${median(busyP50).toFixed(1)} ms / p99 ${median(busyP99).toFixed(1)} ms (medians of the runs) |

Machine: ${machine()}; MariaDB, Redis and NATS JetStream on the same host, shared with other work.
Processes: gateway + users in one, messages in ${NODES}. Each run is a new batch (\`all: true\`) to the same users,
timed from the POST (which answers at once) to the first GET that reports COMPLETED (polled every 250 ms).
`,
    );
  } finally {
    if (process.env.BENCH_LOG_LEVEL) console.log(cluster.log("messages1").slice(-6000));
    await releaseSequelize(cluster.databaseUrl);
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
