/**
 * `npm run dev` hot reload. With moleculer's HotReload a syntax error saved in a service file
 * stopped the service, and once any other service (re)started the broken file was no longer
 * watched: fixing it brought nothing back. A real node process (the same watcher as bin/dev.ts)
 * runs two small services from a temporary folder while the test edits their files.
 */
import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { waitFor } from "../helpers/shop";

const ROOT = path.resolve(__dirname, "../..");

let dir: string;
let child: ChildProcess;
let output = "";
let base = "";

function writeService(name: string, body: string) {
  fs.writeFileSync(path.join(dir, name, `${name}.service.ts`), body);
}
const service = (name: string, answer: string) => `export default { name: "${name}", actions: { hello: () => "${answer}" } };\n`;

async function answer(name: string): Promise<string> {
  const r = await fetch(`${base}/${name}`);
  return r.status === 200 ? r.text() : `${r.status}`;
}

/** `name` answers `value` on every poll for `ms` (a broken file must not take it down meanwhile). */
async function keepsAnswering(name: string, value: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    expect(await answer(name)).toBe(value);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-dev-"));
  for (const name of ["tiny", "other"]) fs.mkdirSync(path.join(dir, name));
  writeService("tiny", service("tiny", "v1"));
  writeService("other", service("other", "o1"));
  child = spawn(path.join(ROOT, "node_modules/.bin/node"), ["--import", "tsx", "test/helpers/dev-node.ts", dir, "tiny", "other"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const port = await waitFor(() => /LISTENING (\d+)/.exec(output)?.[1], { timeout: 30_000, what: "the dev node to listen" });
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGTERM");
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, { timeout: 15_000 });
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

it("a broken save keeps the running version, and the next good save replaces it", async () => {
  expect(await answer("tiny")).toBe("v1");

  writeService("tiny", 'export default { name: "tiny", actions: { hello: () => "v2" ; } };\n');
  await waitFor(() => output.includes("'tiny' not reloaded"), { timeout: 15_000, what: "the compile error to be reported" });
  expect(await answer("tiny")).toBe("v1");

  // another service reloading in between: moleculer's watcher rescanned its files 2 s after a
  // service started, found no service owning the broken file, and stopped watching it
  writeService("other", service("other", "o2"));
  await waitFor(async () => (await answer("other")) === "o2", { timeout: 15_000, what: "other to reload" });
  await keepsAnswering("tiny", "v1", 2500);

  writeService("tiny", service("tiny", "v3"));
  await waitFor(async () => (await answer("tiny")) === "v3", { timeout: 15_000, what: "the fixed tiny to answer" });

  // and again: the watcher keeps watching after a recovery
  writeService("tiny", "export default {\n");
  await waitFor(() => output.split("'tiny' not reloaded").length === 3, { timeout: 15_000, what: "the second compile error" });
  expect(await answer("tiny")).toBe("v3");
  writeService("tiny", service("tiny", "v4"));
  await waitFor(async () => (await answer("tiny")) === "v4", { timeout: 15_000, what: "the second fix to answer" });
});
