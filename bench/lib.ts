/** Helpers shared by the benchmarks: machine description, child processes, RESULTS.md sections. */
import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..");
export const RESULTS = path.join(ROOT, "bench", "RESULTS.md");

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Replace (or append) the `## title` section of bench/RESULTS.md. */
export function writeSection(title: string, body: string): void {
  const head = "# Benchmark results\n\nEach section is rewritten by the benchmark that produced it (`npm run bench:<name>`).\n";
  let text = fs.existsSync(RESULTS) ? fs.readFileSync(RESULTS, "utf8") : head;
  const section = `## ${title}\n\n${body.trim()}\n`;
  const re = new RegExp(`## ${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n[\\s\\S]*?(?=\\n## |$)`);
  text = re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}`;
  fs.writeFileSync(RESULTS, text.endsWith("\n") ? text : text + "\n");
}

/** Start a child process and resolve once `ready(url)` answers. */
export async function startProcess(cmd: string, args: string[], env: Record<string, string>, readyUrl: string, timeoutMs = 60_000, cwd = ROOT): Promise<ChildProcess> {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d) => (out = (out + d).slice(-4000)));
  child.stderr?.on("data", (d) => (out = (out + d).slice(-4000)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited early:\n${out}`);
    try {
      const r = await fetch(readyUrl);
      if (r.ok) return child;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${cmd} did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  });
}

/**
 * CPU milliseconds (user + system) used so far by a process and all its descendants (e.g. the
 * node process `tsx` starts), from /proc. On a noisy shared machine the CPU a request costs varies
 * far less than requests per second do, so benchmarks report both.
 */
export function cpuMsOfTree(rootPid: number): number {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  const stats = new Map<number, { ppid: number; ms: number }>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      // the command name may hold spaces and parentheses: fields start after the last ')'
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(name), { ppid: Number(f[1]), ms: (Number(f[11]) + Number(f[12])) * tick });
    } catch {
      /* exited meanwhile */
    }
  }
  let total = 0;
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop()!;
    total += stats.get(pid)?.ms ?? 0;
    for (const [child, st] of stats) if (st.ppid === pid) todo.push(child);
  }
  return total;
}
