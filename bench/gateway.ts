/**
 * `npm run bench:gateway`: authenticated GET /api/v1/users/me on the embedded shop versus a bare
 * Node http server, in the same run, on the same machine, alternating rounds; medians reported
 * and written to bench/RESULTS.md.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { ROOT, cpuMsOfTree, machine, median, startProcess, stopProcess, writeSection } from "./lib";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** What the profiles showed; kept with the figures it explains. */
const ANALYSIS = `Where the time goes (2026-12-03, \`perf record -g\` of the shop started with \`node --perf-basic-prof\`
under this load). V8's own CPU profile (\`BENCH_PROFILE\`) charged 25–50 % of the time to the socket write;
perf does not confirm that, so figures from it earlier in this file overstate the write. perf: the kernel
≈ 20 % of the shop's CPU, most of it the response's write (≈ 16 %: loopback delivery, and waking the load
generator ≈ 7 %, spent in the hypervisor's interrupt enable). Inclusive shares of the rest (they overlap: moleculer-web's path contains the calls): moleculer-web's
call and response path ≈ 37 % (its write included), the two broker calls' middleware
chains with everything below them ≈ 18 %, our request id and security headers ≈ 7 % (13 \`setHeader\`s, each
validated and lower-cased by Node), the cacher ≈ 5 %, authentication ≈ 3 %. The rest is spread thinly:
no JavaScript function above 2 % self. Per request the shop spends ≈ 90 µs of CPU (user + system, /proc),
the bare server ≈ 21 µs and plain moleculer-web ≈ 35 µs. With 4 requests pipelined per connection the
same shop spent half the CPU per request (user 100 → 49 µs, system 20 → 14 µs, 8.7k → 16k req/s), the bare
server a fifth less: on this virtual machine much of a request's cost goes with the separate wakeups it
causes, which weighs more on the slower server. Done so far: verified tokens remembered until expiry,
helmet's headers computed once, request metrics updated in place (\`services/shared/request-metrics.ts\`),
no debug request lines formatted when debug is off.`;

/** `pid`: the server's process, whose CPU time (with its children's) per request is reported too. */
async function run(url: string, headers: Record<string, string> = {}, pid?: number) {
  const cpu0 = pid ? cpuMsOfTree(pid) : 0;
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers });
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors, status codes ${JSON.stringify((r as unknown as { statusCodeStats: unknown }).statusCodeStats)}`);
  const cpuUs = pid ? ((cpuMsOfTree(pid) - cpu0) * 1000) / r.requests.total : NaN;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuUs };
}

/**
 * A second shop alternating with this checkout's in every round, for before/after figures:
 * BENCH_BASELINE=<another checkout> (its node_modules linked, web built) runs that code;
 * BENCH_VARIANT="KEY=value KEY2=value" runs this code with that environment on top.
 */
const BASELINE = process.env.BENCH_BASELINE ?? "";
const VARIANT = process.env.BENCH_VARIANT ?? "";

function shopEnv(port: number, data: string, metricsPort: number): Record<string, string> {
  return {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: data,
    RATE_LIMIT_ENABLED: "false",
    LOG_LEVEL: "warn",
    METRICS_PORT: process.env.BENCH_METRICS_PORT ?? String(metricsPort),
    SEED_DEMO: "false",
    ADMIN_USERNAME: "admin",
    ADMIN_PASSWORD: "bench-admin-pass",
    // BENCH_PROFILE=<dir>: the shop writes a V8 CPU profile there when it stops
    ...(process.env.BENCH_PROFILE ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {}),
  };
}

async function tokenFor(api: string): Promise<Record<string, string>> {
  const post = (p: string, body: unknown) => fetch(`${api}/${p}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
  await post("auth/register", { username: "bencher", password: "bench-password", email: "bench@example.com" });
  const login = (await post("auth/login", { username: "bencher", password: "bench-password" })) as { data: { accessToken: string } };
  return { authorization: `Bearer ${login.data.accessToken}` };
}

async function main() {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "mall-bench-"));
  const data2 = fs.mkdtempSync(path.join(os.tmpdir(), "mall-bench-"));
  const node = path.join(ROOT, "node_modules/.bin/node");
  const tsx = path.join(ROOT, "node_modules/.bin/tsx");
  const bare = await startProcess(node, [path.join(ROOT, "bench/bare-server.js")], { PORT: "3901" }, "http://127.0.0.1:3901/health");
  const plain = await startProcess(node, [path.join(ROOT, "bench/plain-gateway.js")], { PORT: "3903" }, "http://127.0.0.1:3903/health");
  const shop = await startProcess(tsx, ["bin/start.ts"], shopEnv(3902, data, 3931), "http://127.0.0.1:3902/ready");
  const variantEnv = Object.fromEntries(VARIANT.split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  const other =
    BASELINE || VARIANT
      ? await startProcess(BASELINE ? path.join(BASELINE, "node_modules/.bin/tsx") : tsx, ["bin/start.ts"], { ...shopEnv(3904, data2, 3932), ...variantEnv }, "http://127.0.0.1:3904/ready", 60_000, BASELINE || ROOT)
      : null;
  const otherLabel = BASELINE ? `baseline (${process.env.BENCH_BASELINE_LABEL ?? BASELINE})` : `variant (${VARIANT})`;
  try {
    const api = "http://127.0.0.1:3902/api/v1";
    const api2 = "http://127.0.0.1:3904/api/v1";
    const auth = await tokenFor(api);
    const auth2 = other ? await tokenFor(api2) : {};
    await run(`${api}/users/me`, auth); // warm-up (JIT, caches)
    if (other) await run(`${api2}/users/me`, auth2);
    await run("http://127.0.0.1:3901/");
    const ours: number[] = [];
    const theirs: number[] = [];
    const base: number[] = [];
    const floor: number[] = [];
    const p99s: number[] = [];
    const theirP99s: number[] = [];
    const ratios: number[] = [];
    const pairRatios: number[] = [];
    const cpu: number[] = [];
    const bareCpu: number[] = [];
    const floorCpu: number[] = [];
    const theirCpu: number[] = [];
    const cpuRatios: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const b = await run("http://127.0.0.1:3901/", {}, bare.pid);
      const f = await run("http://127.0.0.1:3903/me", {}, plain.pid);
      // the two shops take turns at going first, so that an order effect (this machine drifts
      // within seconds) does not land on one side of every pair
      const oursFirst = i % 2 === 1;
      const o0 = other && oursFirst ? await run(`${api}/users/me`, auth, shop.pid) : null;
      const t = other ? await run(`${api2}/users/me`, auth2, other.pid) : null;
      const o = o0 ?? (await run(`${api}/users/me`, auth, shop.pid));
      base.push(b.rps);
      floor.push(f.rps);
      ours.push(o.rps);
      p99s.push(o.p99);
      ratios.push(o.rps / b.rps);
      cpu.push(o.cpuUs);
      bareCpu.push(b.cpuUs);
      floorCpu.push(f.cpuUs);
      if (t) {
        theirCpu.push(t.cpuUs);
        cpuRatios.push(o.cpuUs / t.cpuUs);
        theirs.push(t.rps);
        theirP99s.push(t.p99);
        pairRatios.push(o.rps / t.rps);
      }
      console.log(
        `round ${i + 1}: bare ${b.rps.toFixed(0)} req/s (${b.cpuUs.toFixed(0)} CPU-µs/req), plain moleculer-web ${f.rps.toFixed(0)} req/s (${f.cpuUs.toFixed(0)} CPU-µs/req), ` +
          (t ? `${otherLabel} users/me ${t.rps.toFixed(0)} req/s (p99 ${t.p99} ms, ${t.cpuUs.toFixed(0)} CPU-µs/req), ` : "") +
          `users/me ${o.rps.toFixed(0)} req/s (p50 ${o.p50} ms, p99 ${o.p99} ms, ${o.cpuUs.toFixed(0)} CPU-µs/req), ÷ bare ${(o.rps / b.rps).toFixed(2)}×`,
      );
    }
    const ratio = median(ratios);
    const md = [
      `Command: \`npm run bench:gateway\` (autocannon, ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} alternating rounds after a warm-up; medians).`,
      `Machine: ${machine()}. Shop: embedded shape (\`npm start\` defaults, SQLite, memory cache, Prometheus metrics on), rate limiting off; autocannon on the same 2 cores.`,
      "",
      "| endpoint | req/s (median) | p99 latency | shop CPU per request (median) |",
      "|---|---|---|---|",
      `| bare Node \`http\` server | ${median(base).toFixed(0)} | — | ${median(bareCpu).toFixed(0)} µs |`,
      `| plain moleculer-web, one alias, no middlewares (framework floor, for reference) | ${median(floor).toFixed(0)} (${(median(floor) / median(base)).toFixed(2)}×) | — | ${median(floorCpu).toFixed(0)} µs |`,
      ...(other ? [`| \`GET /api/v1/users/me\`, ${otherLabel} | ${median(theirs).toFixed(0)} | ${median(theirP99s)} ms | ${median(theirCpu).toFixed(0)} µs |`] : []),
      `| \`GET /api/v1/users/me\` (Bearer token, JWT verify + revocation check + cached profile) | ${median(ours).toFixed(0)} | ${median(p99s)} ms | ${median(cpu).toFixed(0)} µs |`,
      "",
      `Ratio users/me ÷ bare (median of the per-round ratios ${ratios.map((r) => r.toFixed(2)).join(", ")}): **${ratio.toFixed(2)}×** (target ≥ 0.35×${ratio >= 0.35 ? ": met" : ": not met"}).` +
        (other
          ? ` This checkout ÷ ${otherLabel}, req/s per round: ${pairRatios.map((r) => r.toFixed(2)).join(", ")} (median ${median(pairRatios).toFixed(2)}×);` +
            ` CPU per request per round: ${cpuRatios.map((r) => r.toFixed(2)).join(", ")} (median ${median(cpuRatios).toFixed(2)}×).`
          : "") +
        ` Run on ${new Date().toISOString().slice(0, 10)}.`,
      "",
      ANALYSIS,
    ].join("\n");
    console.log("\n" + md);
    if (process.env.BENCH_WRITE !== "false") writeSection("Gateway", md);
  } finally {
    await stopProcess(shop);
    if (other) await stopProcess(other);
    await stopProcess(bare);
    await stopProcess(plain);
    fs.rmSync(data, { recursive: true, force: true });
    fs.rmSync(data2, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
