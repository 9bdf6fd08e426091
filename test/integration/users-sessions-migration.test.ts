/**
 * Migration 0101 turns the refresh-token families of a running shop into session rows, on both
 * dialects: a family with one ACTIVE token stays logged in, anything else (including the state the
 * old refresh race could leave: an ACTIVE token beside REVOKED ones) starts out revoked.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { hash as argonHash } from "@node-rs/argon2";
import { QueryTypes } from "sequelize";
import { acquireSequelize, ensureDatabase, releaseSequelize } from "../../services/shared/db";
import { buildUmzug } from "../../services/shared/migrator";
import { MYSQL, Shop, client, startShop } from "../helpers/shop";

const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

describe.each([
  ["embedded", "embedded" as const],
  ["cluster", "cluster" as const],
])("sessions migration (%s)", (_name, shape) => {
  const id = crypto.randomBytes(4).toString("hex");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mall-mig-${id}-`));
  const url = shape === "embedded" ? `sqlite:${path.join(dir, "mall.sqlite")}` : `${MYSQL}/mall_m${id}`;
  const secrets = { live: crypto.randomBytes(32).toString("base64url"), raced: crypto.randomBytes(32).toString("base64url") };
  const ids = { live: crypto.randomUUID(), raced: crypto.randomUUID() };
  const fam = { live: crypto.randomUUID(), raced: crypto.randomUUID(), ended: crypto.randomUUID() };
  let shop: Shop | undefined;

  beforeAll(async () => {
    await ensureDatabase(url);
    const sequelize = acquireSequelize(url);
    try {
      const umzug = buildUmzug(sequelize);
      await umzug.up({ to: "0100-users" });
      const qi = sequelize.getQueryInterface();
      const now = new Date();
      const later = new Date(Date.now() + 86_400_000);
      await qi.bulkInsert("users", [
        { username: `m${id}`, username_norm: `m${id}`, email: `m${id}@example.com`, password_hash: await argonHash("secret-pass-123"), status: "ACTIVE", created_at: now, updated_at: now },
      ]);
      const [{ uid }] = await sequelize.query<{ uid: number }>("SELECT id AS uid FROM users", { type: QueryTypes.SELECT });
      await qi.bulkInsert("user_roles", [{ user_id: uid, role: "customer" }]);
      const token = (tid: string, family: string, status: string, secret = crypto.randomBytes(32).toString("base64url")) => ({
        id: tid,
        family_id: family,
        user_id: uid,
        token_hash: sha256(secret),
        status,
        expires_at: later,
        revoked_at: status === "REVOKED" ? now : null,
        created_at: now,
        updated_at: now,
      });
      await qi.bulkInsert("refresh_tokens", [
        token(crypto.randomUUID(), fam.live, "ROTATED"),
        token(ids.live, fam.live, "ACTIVE", secrets.live),
        token(crypto.randomUUID(), fam.raced, "ROTATED"),
        token(crypto.randomUUID(), fam.raced, "REVOKED"),
        token(ids.raced, fam.raced, "ACTIVE", secrets.raced),
        token(crypto.randomUUID(), fam.ended, "REVOKED"),
      ]);
      await umzug.up();
    } finally {
      await releaseSequelize(url);
    }
    shop = await startShop({ shape, nodes: shape === "cluster" ? [["api"], ["users"]] : undefined, env: { DATABASE_URL: url } });
  });
  afterAll(async () => {
    await shop?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the live family logged in and starts the others revoked", async () => {
    const users = shop!.brokerFor("users").getLocalService("users") as unknown as { models: { Session: { findAll(o: unknown): Promise<any[]> } } };
    const rows = await users.models.Session.findAll({ order: [["id", "ASC"]] });
    const byId = Object.fromEntries(rows.map((r) => [r.id, { status: r.status, current: r.currentTokenId }]));
    expect(byId[fam.live]).toEqual({ status: "ACTIVE", current: ids.live });
    expect(byId[fam.raced].status).toBe("REVOKED");
    expect(byId[fam.ended].status).toBe("REVOKED");
    expect(rows).toHaveLength(3);
  });

  it("a refresh token issued before the upgrade still rotates; one from a raced family does not", async () => {
    const http = client(shop!);
    const live = await http.post("auth/refresh", { refreshToken: `${ids.live}.${secrets.live}` });
    expect(live.status).toBe(200);
    expect((await http.get("users/me", { token: live.body.data.accessToken })).status).toBe(200);
    expect((await http.post("auth/refresh", { refreshToken: live.body.data.refreshToken })).status).toBe(200);
    const raced = await http.post("auth/refresh", { refreshToken: `${ids.raced}.${secrets.raced}` });
    expect(raced.status).toBe(401);
    expect(raced.body.type).toBe("TOKEN_REVOKED");
  });
});
