/** jest globalSetup: a fresh file in which this run's test environments note their namespaces (leaks.ts). */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NAMESPACES_FILE_ENV } from "./leaks";

export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-test-run-"));
  const file = path.join(dir, "namespaces");
  fs.writeFileSync(file, "");
  process.env[NAMESPACES_FILE_ENV] = file;
}
