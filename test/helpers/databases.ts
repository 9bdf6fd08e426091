/** A scratch database for a test file, on either database the shop runs on. */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { dropDatabase } from "../../services/shared/db";
import { MYSQL } from "./shop";

/**
 * A SQLite file under a new temp dir, or a new MariaDB database (`mall_<tag><random>`); nothing
 * is created until the test calls ensureDatabase. `drop` removes it (release its pool first).
 */
export function scratchDatabase(dialect: "sqlite" | "mysql", tag: string): { url: string; drop: () => Promise<void> } {
  const id = crypto.randomBytes(4).toString("hex");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mall-${tag}-${id}-`));
  const url = dialect === "sqlite" ? `sqlite:${path.join(dir, "mall.sqlite")}` : `${MYSQL}/mall_${tag}${id}`;
  return {
    url,
    drop: async () => {
      if (dialect === "mysql") await dropDatabase(url);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
