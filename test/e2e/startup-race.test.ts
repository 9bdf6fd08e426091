/**
 * Cluster shape, real OS processes: three nodes started at the same moment on one fresh MariaDB
 * database with MIGRATE_ON_START=true — what an operator gets from `docker compose up` or a
 * rollout. Every node must come up (the migrations run once, under a database lock), the schema
 * must be complete, and the users service's bootstrap must leave exactly one admin: on the
 * first start, on a restart of all three at once (the reset path), and with a generated
 * password, which is printed exactly once.
 */
import fs from "node:fs";
import { QueryTypes, Sequelize } from "sequelize";
import { acquireSequelize, releaseSequelize } from "../../services/shared/db";
import { MIGRATIONS_DIR } from "../../services/shared/migrator";
import { ProcessCluster } from "../helpers/processes";
import { ADMIN, client, waitFor } from "../helpers/shop";

jest.setTimeout(180_000);

const NODES = ["a", "b", "c"];
const specs = NODES.map((name, i) => ({ name, services: i === 0 ? ["api", "users"] : ["users"] }));
/** what a node that lost a race on the schema or the admin prints */
const FAILED = /Duplicate key|ER_DUP|UniqueConstraint|failed to start|migration failed/;
const migrationNames = fs
  .readdirSync(MIGRATIONS_DIR)
  .filter((f) => /^\d{4}-.+\.ts$/.test(f))
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();

/** How many live nodes the probe sees running `users`. */
const usersNodes = (cluster: ProcessCluster) =>
  cluster.probe.registry.nodes.toArray().filter((n) => n.available && n.services.some((s) => s.name === "users")).length;

/** Until three nodes run `users`; a node that exited fails it at once, with its log. */
async function allUp(cluster: ProcessCluster): Promise<void> {
  let dead: string[] = [];
  await waitFor(
    () => {
      dead = NODES.filter((n) => cluster.exitCode(n) !== null);
      return dead.length > 0 || usersNodes(cluster) === NODES.length;
    },
    { timeout: 90_000, interval: 200, what: "three users nodes" },
  );
  if (dead.length) throw new Error(`node(s) ${dead.join(", ")} exited:\n${dead.map((n) => cluster.log(n).slice(-2000)).join("\n---\n")}`);
}

describe("three nodes start at once on a fresh database (cluster, processes)", () => {
  let cluster: ProcessCluster | undefined;
  let db: Sequelize | undefined;

  afterEach(async () => {
    if (db && cluster) await releaseSequelize(cluster.databaseUrl);
    db = undefined;
    await cluster?.stop();
    cluster = undefined;
  });

  const count = async (sql: string) => {
    const [row] = await db!.query<{ n: number | string }>(sql, { type: QueryTypes.SELECT });
    return Number(row.n);
  };

  it("all migrate without error, the schema is complete, and there is one admin — also after all three restart at once", async () => {
    cluster = await ProcessCluster.start(specs, { MIGRATE_ON_START: "true" }, { migrate: false });
    await allUp(cluster);
    db = acquireSequelize(cluster.databaseUrl);
    const applied = await db.query<{ name: string }>("SELECT name FROM mall_migrations ORDER BY name", { type: QueryTypes.SELECT });
    expect(applied.map((r) => r.name)).toEqual(migrationNames);
    for (const n of NODES) expect(cluster.log(n)).not.toMatch(FAILED);
    expect(await count("SELECT COUNT(*) AS n FROM users WHERE username_norm = 'admin'")).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM user_roles WHERE role = 'admin'")).toBe(1);

    // every node resets the existing admin from ADMIN_PASSWORD at the same moment
    await Promise.all(NODES.map((n) => cluster!.kill(n, "SIGTERM")));
    await waitFor(() => usersNodes(cluster!) === 0, { what: "the old nodes gone from the registry" });
    await Promise.all(NODES.map((n) => cluster!.startNode(n, false)));
    await allUp(cluster);
    await cluster.ready();
    for (const n of NODES) expect(cluster.log(n)).not.toMatch(FAILED);
    expect(await count("SELECT COUNT(*) AS n FROM user_roles WHERE role = 'admin'")).toBe(1);
    const login = await client(cluster).post("auth/login", ADMIN);
    expect(login.status).toBe(200);
    expect(login.body.data.user.roles).toEqual(expect.arrayContaining(["admin", "customer"]));
  });

  it("without ADMIN_USERNAME/ADMIN_PASSWORD exactly one node creates the admin and prints its password once", async () => {
    cluster = await ProcessCluster.start(specs, { MIGRATE_ON_START: "true", ADMIN_USERNAME: "", ADMIN_PASSWORD: "" }, { migrate: false });
    await allUp(cluster);
    db = acquireSequelize(cluster.databaseUrl);
    const banners = NODES.map((n) => cluster!.log(n).match(/Admin account created — username: admin {2}password: (\S+)/g) ?? []).flat();
    expect(banners).toHaveLength(1);
    expect(await count("SELECT COUNT(*) AS n FROM user_roles WHERE role = 'admin'")).toBe(1);
    const password = /password: (\S+)/.exec(banners[0])![1];
    await cluster.ready();
    expect((await client(cluster).post("auth/login", { username: "admin", password })).status).toBe(200);
  });
});
