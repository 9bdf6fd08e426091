/**
 * web/shared/api-types.ts (the web apps' API types) is generated from the gateway's OpenAPI
 * document; a change to a service contract without `npm run web:api-types` fails here.
 */
import fs from "node:fs";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, "../..");

it("the committed web/shared/api-types.ts matches the current OpenAPI document (else: npm run web:api-types)", async () => {
  const { stdout } = await execFileP(process.execPath, ["--import", "tsx", "bin/web-api-types.ts", "--stdout"], {
    cwd: ROOT,
    timeout: 90_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const committed = fs.readFileSync(path.join(ROOT, "web/shared/api-types.ts"), "utf8");
  expect(stdout.length).toBeGreaterThan(10_000);
  expect(stdout).toContain(`"/api/v1/orders": {`);
  // one clear line instead of a 6000-line diff
  if (committed !== stdout) throw new Error("web/shared/api-types.ts is stale: run `npm run web:api-types` and commit the file");
}, 120_000);
