/**
 * A node's last log lines survive `process.exit` when its stdout is a pipe read slowly (the
 * way moleculer ends a graceful stop): services/shared/stdio.ts makes pipe writes blocking.
 * Without it, only what fit in the pipe (64 KB) arrived — the ending of a debug-level stop,
 * "Good bye" included, was lost.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

function runAndReadLate(blocking: boolean): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-stdio-"));
  const script = path.join(dir, "write.ts");
  fs.writeFileSync(
    script,
    `import { blockingStdio } from ${JSON.stringify(path.join(ROOT, "services/shared/stdio"))};
${blocking ? "blockingStdio();" : ""}
for (let i = 0; i < 20000; i++) console.log("line " + i + " ".repeat(80));
console.log("GOODBYE");
process.exit(0);
`,
  );
  const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), [script], { stdio: ["ignore", "pipe", "inherit"] });
  child.stdout.pause(); // a reader that is late: nothing is read for the first second
  let out = "";
  return new Promise((resolve) => {
    setTimeout(() => {
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stdout.once("end", () => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve(out);
      });
      child.stdout.resume();
    }, 1000);
  });
}

it("with blocking pipes every line arrives, the last one included", async () => {
  const out = await runAndReadLate(true);
  expect(out.trimEnd().endsWith("GOODBYE")).toBe(true);
  expect(out.split("\n").filter((l) => l.startsWith("line ")).length).toBe(20000);
}, 60_000);
