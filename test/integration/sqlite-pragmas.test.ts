/**
 * The embedded database's durability settings: WAL, and `synchronous` NORMAL by default (no
 * fsync per commit) or FULL with SQLITE_SYNCHRONOUS=FULL — read back from the live connection.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QueryTypes } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-pragmas-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function pragmas(file: string) {
  const url = `sqlite:${path.join(dir, file)}`;
  const s = acquireSequelize(url);
  try {
    const [{ journal_mode }] = await s.query<{ journal_mode: string }>("PRAGMA journal_mode", { type: QueryTypes.SELECT });
    const [{ synchronous }] = await s.query<{ synchronous: number }>("PRAGMA synchronous", { type: QueryTypes.SELECT });
    return { journal_mode, synchronous };
  } finally {
    await releaseSequelize(url);
  }
}

it("uses WAL with synchronous = NORMAL (1) by default", async () => {
  expect(await pragmas("a.sqlite")).toEqual({ journal_mode: "wal", synchronous: 1 });
});

it("syncs every commit (FULL = 2) with SQLITE_SYNCHRONOUS=FULL", async () => {
  const before = process.env.SQLITE_SYNCHRONOUS;
  process.env.SQLITE_SYNCHRONOUS = "FULL";
  try {
    expect(await pragmas("b.sqlite")).toEqual({ journal_mode: "wal", synchronous: 2 });
  } finally {
    if (before === undefined) delete process.env.SQLITE_SYNCHRONOUS;
    else process.env.SQLITE_SYNCHRONOUS = before;
  }
});
