/**
 * The admin list pages sales in SQL with `phaseCondition`; the storefront and the DTOs use
 * `phaseOf`. Both must put every sale in the same phase: checked on SQLite and MariaDB rows.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { phaseCondition, phaseOf } from "../../services/seckill/domain/sale-rules";
import type { EventPhase } from "../../services/seckill/seckill.contracts";
import { MYSQL } from "../helpers/shop";

const now = new Date("2026-06-01T12:00:00Z");
const h = (n: number) => new Date(now.getTime() + n * 3600_000);
const rows = ["SCHEDULED", "CLOSED", "CANCELLED", "PENDING"].flatMap((status) =>
  [[-3, -1], [-1, 1], [1, 3], [-2, 0]].map(([s, e]) => ({ status, startAt: h(s), endAt: h(e) })),
);

async function check(s: Sequelize) {
  await s.query("CREATE TABLE phase_probe (id INTEGER PRIMARY KEY, status VARCHAR(16) NOT NULL, start_at DATETIME(3) NOT NULL, end_at DATETIME(3) NOT NULL)".replace(/DATETIME\(3\)/g, s.getDialect() === "sqlite" ? "DATETIME" : "DATETIME(3)"));
  for (const [i, r] of rows.entries()) {
    await s.query("INSERT INTO phase_probe (id, status, start_at, end_at) VALUES (?, ?, ?, ?)", { replacements: [i + 1, r.status, r.startAt, r.endAt] });
  }
  for (const phase of ["upcoming", "active", "ended", "cancelled"] as EventPhase[]) {
    const c = phaseCondition(phase, now);
    const got = await s.query<{ id: number }>(`SELECT id FROM phase_probe WHERE status <> 'PENDING' AND ${c.sql} ORDER BY id`, { replacements: c.args, type: QueryTypes.SELECT });
    const want = rows.map((r, i) => ({ r, id: i + 1 })).filter(({ r }) => r.status !== "PENDING" && phaseOf(r, now.getTime()) === phase).map(({ id }) => id);
    expect([phase, got.map((g) => Number(g.id))]).toEqual([phase, want]);
  }
}

it("phaseCondition selects exactly the sales phaseOf puts in each phase (SQLite)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mall-phase-"));
  const url = `sqlite:${path.join(dir, "p.sqlite")}`;
  try {
    await check(acquireSequelize(url));
  } finally {
    await releaseSequelize(url);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it("phaseCondition selects exactly the sales phaseOf puts in each phase (MariaDB)", async () => {
  const admin = new Sequelize(`${MYSQL}/mysql`, { logging: false });
  const db = `phase_${process.pid}_${Date.now() % 100000}`;
  await admin.query(`CREATE DATABASE ${db}`);
  const url = `${MYSQL}/${db}`;
  try {
    await check(acquireSequelize(url));
  } finally {
    await releaseSequelize(url);
    await admin.query(`DROP DATABASE ${db}`);
    await admin.close();
  }
});
