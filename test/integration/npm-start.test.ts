/**
 * `npm start` and `npm run dev` as a newcomer and a process manager see them: the real npm
 * command, a fresh data folder and no configuration.
 *
 * - The console ends with one block saying where the shop is and the admin account, its
 *   password shown once; no route listing at info, no placeholder route.
 * - SIGTERM to the npm process stops the shop gracefully. npm used to run `sh -c tsx …`: the
 *   signal stopped npm and the shell and left node serving.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { waitFor } from "../helpers/shop";

const ROOT = path.resolve(__dirname, "../..");

interface Run {
  child: ChildProcess;
  output(): string;
  /** resolves once the process exited and its output pipes are drained */
  closed: Promise<void>;
}

/**
 * A stdin that stays open like a terminal's. Node's "pipe" is a socket that reads end-of-file
 * once npm exits, and the dev REPL quits on end-of-file: the shop would stop for that reason.
 */
function terminalLikeStdin(): number {
  const fifo = path.join(tempDir(), "stdin.fifo");
  execFileSync("mkfifo", [fifo]);
  return fs.openSync(fifo, "r+"); // holding both ends: no end-of-file
}

function npm(args: string[], dataDir: string, env: Record<string, string> = {}): Run {
  let out = "";
  const stdin = terminalLikeStdin();
  const child = spawn("npm", args, {
    cwd: ROOT,
    // a fresh machine: nothing configured but where the data goes and a free port
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.tmpdir(), DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", METRICS_PORT: "off", ...env },
    stdio: [stdin, "pipe", "pipe"],
    detached: true, // its own process group, so the test can tell whether anything is left of it
  });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  child.once("exit", () => fs.closeSync(stdin));
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return { child, output: () => out, closed };
}

const runs: Run[] = [];
const dirs: string[] = [];

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "mall-npm-"));
  dirs.push(d);
  return d;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readyUrl(run: Run): Promise<string> {
  const url = await waitFor(() => /Mall is ready at (http:\/\/\S+)/.exec(run.output())?.[1], { timeout: 60_000, what: "the ready block" }).catch((err) => {
    throw new Error(`${(err as Error).message}\n${run.output().slice(-3000)}`);
  });
  return url!;
}

/** SIGTERM to the npm process only, as a process manager sends it; then nothing may be left. */
async function terminate(run: Run, url: string): Promise<void> {
  const pid = run.child.pid!;
  process.kill(pid, "SIGTERM");
  await waitFor(() => !groupAlive(pid), { timeout: 30_000, interval: 100, what: "every process of npm start to exit" });
  await expect(fetch(`${url}/health`)).rejects.toThrow();
  // the last lines may still sit in the pipes when the processes are gone (a debug-level stop
  // writes many): read them all before looking
  await run.closed;
  // how it ended, in the failure message when the goodbye is missing
  expect({ exit: run.child.exitCode, signal: run.child.signalCode, goodbye: run.output().includes("ServiceBroker is stopped. Good bye.") }).toEqual({ exit: 0, signal: null, goodbye: true });
}

afterAll(() => {
  for (const r of runs) {
    if (r.child.pid && groupAlive(r.child.pid)) process.kill(-r.child.pid, "SIGKILL");
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

it("npm start: one ready block with the admin password once, routes only at debug, and SIGTERM stops it", async () => {
  const dir = tempDir();
  const first = npm(["start"], dir);
  runs.push(first);
  const url = await readyUrl(first);

  const ready = await fetch(`${url}/ready`);
  expect(ready.status).toBe(200);
  const out = first.output();
  const password = /admin +admin \/ (\S+)/.exec(out)?.[1];
  expect(password).toBeDefined();
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password }),
  });
  expect(login.status).toBe(200);

  expect(out.split("Mall is ready at").length).toBe(2);
  expect(out.split(password!).length).toBe(2);
  expect(out).toContain(`API docs      ${url}/api/docs`);
  expect(out).not.toContain("__none");
  expect(out).not.toMatch(/(GET|POST) \/api\/v1\/\S+ => /);
  // the ready block is the end of start-up
  expect(out.trimEnd().endsWith("─".repeat(72))).toBe(true);

  await terminate(first, url);
  expect(first.child.exitCode).toBe(0);

  // the second start has no new password to show, and lists routes when asked to
  const again = npm(["start"], dir, { LOG_LEVEL: "debug" });
  runs.push(again);
  const url2 = await readyUrl(again);
  const out2 = again.output();
  expect(out2).toMatch(/admin +admin \(password shown when it was created, at the first start\)/);
  expect(out2).not.toContain(password!);
  expect(out2).toMatch(/POST \/api\/v1\/auth\/login => users\.login/);
  expect(out2).not.toContain("__none");
  await terminate(again, url2);
  expect(again.child.exitCode).toBe(0);
}, 120_000);

it("npm run dev: SIGTERM to npm stops the shop and its REPL", async () => {
  const dev = npm(["run", "dev"], tempDir());
  runs.push(dev);
  const url = await readyUrl(dev);
  expect((await fetch(`${url}/ready`)).status).toBe(200);
  await terminate(dev, url);
}, 120_000);
