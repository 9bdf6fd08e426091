/**
 * Many users at once for batch tests and the batch benchmark: rows written straight into the
 * users table (registering 100,000 accounts through argon2 would take the machine an hour).
 * They cannot log in (no usable password hash); they are recipients.
 */
import crypto from "node:crypto";
import { defineUserModels } from "../../models/users";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";

export async function insertUsers(databaseUrl: string, n: number, opts: { locale?: "zh-CN" | "en"; chunk?: number } = {}): Promise<number[]> {
  const db = acquireSequelize(databaseUrl);
  try {
    const { User } = defineUserModels(db);
    const tag = crypto.randomBytes(3).toString("hex");
    const ids: number[] = [];
    const chunk = opts.chunk ?? 1000;
    for (let i = 0; i < n; i += chunk) {
      const now = new Date();
      const rows = Array.from({ length: Math.min(chunk, n - i) }, (_, j) => {
        const name = `m${tag}_${i + j}`;
        return {
          username: name,
          usernameNorm: name,
          email: `${name}@example.com`,
          mobile: null,
          passwordHash: "!",
          nickname: i + j === 0 ? null : `N${i + j}`,
          avatarUrl: null,
          locale: opts.locale ?? (j % 2 ? "en" : "zh-CN"),
          status: "ACTIVE",
          sessionEpoch: 0,
          sessionEpochAt: null,
          createdAt: now,
          updatedAt: now,
        };
      });
      await User.bulkCreate(rows, { validate: false, hooks: false });
      const made = await User.findAll({ attributes: ["id"], where: { usernameNorm: rows.map((r) => r.usernameNorm) }, raw: true });
      ids.push(...made.map((r) => Number(r.id)));
    }
    return ids.sort((a, b) => a - b);
  } finally {
    await releaseSequelize(databaseUrl);
  }
}
