/**
 * Sessions and account security through the gateway, in both shapes (embedded: SQLite + memory
 * KV; cluster: gateway and users on separate nodes, MariaDB + Redis + NATS): refresh rotation
 * races, the grace window, disabling users, revoking sessions, role changes reaching old tokens,
 * and the login throttle. Races are run many times over with requests fired at once.
 */
import crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";
import { createNode } from "../../services/shared/broker";
import { parseConfig } from "../../services/shared/config";
import { Shop, client, loginAdmin, newCustomer, startShop, waitFor } from "../helpers/shop";

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api"], ["users"]] }],
];

const ROUNDS = 30;
const LIMIT = 3;
const GRACE_SEC = 3;
const EPOCH_CACHE_MS = 1500;

describe.each(shapes)("sessions and account security (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;

  beforeAll(async () => {
    shop = await startShop({
      ...opts,
      env: {
        LOGIN_RATE_LIMIT_MAX: String(LIMIT),
        TRUST_PROXY: "true",
        REFRESH_REUSE_GRACE_SEC: String(GRACE_SEC),
        SESSION_EPOCH_CACHE_MS: String(EPOCH_CACHE_MS),
      },
    });
    http = client(shop);
  });
  afterAll(async () => {
    await shop?.stop();
  });

  /** A client address of its own (the shop trusts X-Forwarded-For here). */
  const from = () => ({ "X-Forwarded-For": `10.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${crypto.randomInt(1, 255)}` });
  const refresh = (refreshToken: string) => http.post("auth/refresh", { refreshToken });
  const me = (token: string) => http.get("users/me", { token });
  const sessionRow = async (sid: string) => {
    const users = shop.brokerFor("users").getLocalService("users") as unknown as { models: { Session: { findByPk(id: string): Promise<any> } } };
    return users.models.Session.findByPk(sid);
  };
  const sidOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split(".")[1], "base64url").toString()).sid as string;
  const adminId = async (token: string) => (await me(token)).body.data.id as number;

  describe("refresh rotation is one decision per session", () => {
    it(`${ROUNDS} rounds of 2-5 simultaneous refreshes: all get the same pair, and only that refresh token is current`, async () => {
      const c = await newCustomer(shop);
      const sid = sidOf(c.token);
      let current = c.refreshToken;
      for (let round = 0; round < ROUNDS; round++) {
        const n = 2 + (round % 4);
        const results = await Promise.all(Array.from({ length: n }, () => refresh(current)));
        expect(results.map((r) => r.status)).toEqual(Array(n).fill(200));
        const issued = new Set(results.map((r) => r.body.data.refreshToken as string));
        expect(issued.size).toBe(1);
        current = [...issued][0];
        const row = await sessionRow(sid);
        expect({ status: row.status, current: row.currentTokenId }).toEqual({ status: "ACTIVE", current: current.split(".")[0] });
      }
      expect((await me(c.token)).status).toBe(200);
      // a token two rotations old is a replay: the session ends, the current token with it
      const replay = await refresh(c.refreshToken);
      expect(replay.body.type).toBe("TOKEN_REVOKED");
      expect((await refresh(current)).status).toBe(401);
      expect((await sessionRow(sid)).status).toBe("REVOKED");
    });

    it(`${ROUNDS} rounds of a replayed old token racing the current one: the session ends and nothing it handed out works`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const c = await newCustomer(shop);
        const t1 = (await refresh(c.refreshToken)).body.data;
        const t2 = (await refresh(t1.refreshToken)).body.data;
        // c.refreshToken is now two rotations old: outside any grace, whatever the clock says
        const racers = [refresh(t2.refreshToken), refresh(c.refreshToken), refresh(t2.refreshToken)];
        if (round % 2) racers.reverse();
        const results = await Promise.all(racers);
        expect(results.some((r) => r.status === 401 && r.body.type === "TOKEN_REVOKED")).toBe(true);
        const handedOut = results.filter((r) => r.status === 200).map((r) => r.body.data);
        for (const pair of [t2, ...handedOut]) {
          expect({ round, refresh: (await refresh(pair.refreshToken)).status }).toEqual({ round, refresh: 401 });
          expect({ round, access: (await me(pair.accessToken)).status }).toEqual({ round, access: 401 });
        }
        expect((await sessionRow(sidOf(c.token))).status).toBe("REVOKED");
      }
    });

    it(`${ROUNDS} rounds of refresh racing logout: afterwards no token of the session works`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const c = await newCustomer(shop);
        const racers = [refresh(c.refreshToken), http.post("auth/logout", {}, { token: c.token }), refresh(c.refreshToken)];
        if (round % 2) racers.reverse();
        const results = await Promise.all(racers);
        const handedOut = results.filter((r) => r.status === 200 && r.body.data.refreshToken).map((r) => r.body.data);
        for (const pair of [{ refreshToken: c.refreshToken, accessToken: c.token }, ...handedOut]) {
          expect({ round, refresh: (await refresh(pair.refreshToken)).status }).toEqual({ round, refresh: 401 });
          expect({ round, access: (await me(pair.accessToken)).status }).toEqual({ round, access: 401 });
        }
        expect((await sessionRow(sidOf(c.token))).status).toBe("REVOKED");
      }
    });

    it(`the just-rotated token returns the same pair for ${GRACE_SEC} s, then revokes the session`, async () => {
      const c = await newCustomer(shop);
      const first = await refresh(c.refreshToken);
      expect(first.status).toBe(200);
      const again = await refresh(c.refreshToken);
      expect(again.status).toBe(200);
      expect(again.body.data.refreshToken).toBe(first.body.data.refreshToken);
      expect(again.body.data.accessToken).toBe(first.body.data.accessToken);
      const started = Date.now();
      // polling inside the window keeps getting the same pair; the first call after it ends the session
      const late = await waitFor(
        async () => {
          const r = await refresh(c.refreshToken);
          if (r.status === 200) expect(r.body.data.refreshToken).toBe(first.body.data.refreshToken);
          return r.status === 401 ? r : null;
        },
        { timeout: (GRACE_SEC + 5) * 1000, interval: 200, what: "the grace window to close" },
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual((GRACE_SEC - 1) * 1000);
      expect(late!.body.type).toBe("TOKEN_REVOKED");
      expect((await refresh(first.body.data.refreshToken)).status).toBe(401);
      expect((await me(first.body.data.accessToken)).status).toBe(401);
    });
  });

  describe("disabled users, revoked sessions, role changes", () => {
    it("disabling a user: refresh fails at once, access tokens within seconds, login is 403 ACCOUNT_DISABLED only with the right password", async () => {
      const admin = await loginAdmin(shop);
      const c = await newCustomer(shop);
      const other = (await http.post("auth/login", { username: c.username, password: c.password })).body.data;
      expect((await http.patch(`admin/users/${c.id}/status`, { status: "DISABLED" }, { token: c.token })).status).toBe(403);

      const off = await http.patch(`admin/users/${c.id}/status`, { status: "DISABLED" }, { token: admin });
      expect(off.status).toBe(200);
      expect(off.body.data).toMatchObject({ id: c.id, status: "DISABLED" });
      for (const t of [c.refreshToken, other.refreshToken]) expect((await refresh(t)).body.type).toBe("TOKEN_REVOKED");
      for (const t of [c.token, other.accessToken]) {
        await waitFor(async () => (await me(t)).body.type === "TOKEN_REVOKED", { timeout: EPOCH_CACHE_MS + 2000, what: "access token refused" });
      }
      const right = await http.post("auth/login", { username: c.username, password: c.password }, { headers: from() });
      expect(right.status).toBe(403);
      expect(right.body).toMatchObject({ type: "ACCOUNT_DISABLED", code: 10011 });
      const wrong = await http.post("auth/login", { username: c.username, password: "not-the-password" }, { headers: from() });
      expect(wrong.status).toBe(401);
      expect(wrong.body.type).toBe("INVALID_CREDENTIALS");

      const on = await http.patch(`admin/users/${c.id}/status`, { status: "ACTIVE" }, { token: admin });
      expect(on.body.data.status).toBe("ACTIVE");
      const back = await http.post("auth/login", { username: c.username, password: c.password });
      expect(back.status).toBe(200);
      expect((await me(back.body.data.accessToken)).status).toBe(200);
      // the sessions ended by disabling stay ended
      expect((await refresh(other.refreshToken)).status).toBe(401);

      const audit = shop.brokerFor("users").getLocalService("users") as unknown as { models: { Audit: { findAll(o: unknown): Promise<any[]> } } };
      const rows = await audit.models.Audit.findAll({ where: { userId: c.id }, order: [["id", "ASC"]] });
      const by = await adminId(admin);
      expect(rows.map((r) => [r.action, Number(r.actorId), JSON.parse(r.detail).to])).toEqual([
        ["STATUS_CHANGED", by, "DISABLED"],
        ["STATUS_CHANGED", by, "ACTIVE"],
      ]);
    });

    it("status changes are admin-only, validated, and an admin cannot disable themselves", async () => {
      const admin = await loginAdmin(shop);
      const c = await newCustomer(shop);
      expect((await http.patch(`admin/users/${c.id}/status`, { status: "GONE" }, { token: admin })).status).toBe(422);
      expect((await http.patch(`admin/users/99999999/status`, { status: "DISABLED" }, { token: admin })).status).toBe(404);
      const self = await http.patch(`admin/users/${await adminId(admin)}/status`, { status: "DISABLED" }, { token: admin });
      expect(self.status).toBe(409);
      expect(self.body.type).toBe("CANNOT_DISABLE_SELF");
      expect((await me(admin)).body.data.status).toBe("ACTIVE");
      // operators may search users but not change their status or sessions
      await http.put(`admin/users/${c.id}/roles`, { roles: ["operator"] }, { token: admin });
      const op = (await http.post("auth/login", { username: c.username, password: c.password })).body.data.accessToken;
      expect((await http.get("admin/users", { token: op })).status).toBe(200);
      expect((await http.patch(`admin/users/${c.id}/status`, { status: "DISABLED" }, { token: op })).status).toBe(403);
      expect((await http.post(`admin/users/${c.id}/revoke-sessions`, {}, { token: op })).status).toBe(403);
    });

    it("revoke-sessions ends every session of the user; a new login works", async () => {
      const admin = await loginAdmin(shop);
      const c = await newCustomer(shop);
      const other = (await http.post("auth/login", { username: c.username, password: c.password })).body.data;
      const r = await http.post(`admin/users/${c.id}/revoke-sessions`, {}, { token: admin });
      expect(r.status).toBe(200);
      expect(r.body.data).toEqual({ revokedSessions: 2 });
      for (const t of [c.refreshToken, other.refreshToken]) expect((await refresh(t)).body.type).toBe("TOKEN_REVOKED");
      for (const t of [c.token, other.accessToken]) {
        await waitFor(async () => (await me(t)).status === 401, { timeout: EPOCH_CACHE_MS + 2000, what: "access token refused" });
      }
      const again = (await http.post("auth/login", { username: c.username, password: c.password })).body.data;
      expect((await me(again.accessToken)).status).toBe(200);
      expect((await refresh(again.refreshToken)).status).toBe(200);
    });

    it("a demoted operator loses admin routes within seconds; refreshing gives a token with the new roles", async () => {
      const admin = await loginAdmin(shop);
      const c = await newCustomer(shop);
      await http.put(`admin/users/${c.id}/roles`, { roles: ["operator"] }, { token: admin });
      const op = (await http.post("auth/login", { username: c.username, password: c.password })).body.data;
      expect((await http.get("admin/users", { token: op.accessToken })).status).toBe(200);

      expect((await http.put(`admin/users/${c.id}/roles`, { roles: ["customer"] }, { token: admin })).body.data.roles).toEqual(["customer"]);
      await waitFor(async () => (await http.get("admin/users", { token: op.accessToken })).body.type === "TOKEN_REVOKED", {
        timeout: EPOCH_CACHE_MS + 2000,
        what: "the operator token refused",
      });
      const renewed = await refresh(op.refreshToken);
      expect(renewed.status).toBe(200);
      const denied = await http.get("admin/users", { token: renewed.body.data.accessToken });
      expect(denied.status).toBe(403);
      expect(denied.body.type).toBe("FORBIDDEN");
      expect((await me(renewed.body.data.accessToken)).body.data.roles).toEqual(["customer"]);
    });
  });

  describe("login throttle (keyed by account, per client)", () => {
    it("username and email share one counter per account", async () => {
      const c = await newCustomer(shop);
      const h = from();
      const email = `${c.username}@example.com`;
      expect((await http.post("auth/login", { username: c.username, password: "wrong-1" }, { headers: h })).status).toBe(401);
      expect((await http.post("auth/login", { username: c.username.toUpperCase(), password: "wrong-2" }, { headers: h })).status).toBe(401);
      expect((await http.post("auth/login", { username: email, password: "wrong-3" }, { headers: h })).status).toBe(401);
      const locked = await http.post("auth/login", { username: email, password: c.password }, { headers: h });
      expect(locked.status).toBe(429);
      expect(locked.body).toMatchObject({ type: "LOGIN_RATE_LIMITED", code: 10010 });
      expect(locked.body.data.retryAfter).toBeGreaterThanOrEqual(1);
      expect(locked.body.data.retryAfter).toBeLessThanOrEqual(15 * 60);
    });

    it("a stranger's guesses, even fired at once, do not lock the owner out; only clients that failed wait", async () => {
      const c = await newCustomer(shop);
      const attacker = from();
      const guesses = await Promise.all(Array.from({ length: LIMIT * 3 }, (_, i) => http.post("auth/login", { username: c.username, password: `guess-${i}` }, { headers: attacker })));
      expect(guesses.filter((r) => r.status === 401)).toHaveLength(LIMIT);
      const refused = guesses.filter((r) => r.status === 429);
      expect(refused).toHaveLength(LIMIT * 2);
      expect(refused.every((r) => r.body.data.retryAfter >= 1)).toBe(true);
      // the attacker is refused even with the right password
      expect((await http.post("auth/login", { username: c.username, password: c.password }, { headers: attacker })).status).toBe(429);

      // the account is under attack: a second stranger gets one try, then waits
      const second = from();
      expect((await http.post("auth/login", { username: c.username, password: "guess-x" }, { headers: second })).status).toBe(401);
      const waits = await http.post("auth/login", { username: `${c.username}@example.com`, password: "guess-y" }, { headers: second });
      expect(waits.status).toBe(429);
      expect(waits.body.data.retryAfter).toBeGreaterThanOrEqual(1);

      // the owner, from a client that has not failed, logs in
      const owner = from();
      const ok = await http.post("auth/login", { username: c.username, password: c.password }, { headers: owner });
      expect(ok.status).toBe(200);
      expect((await me(ok.body.data.accessToken)).status).toBe(200);
    });

    it("a client failing across many accounts is limited as a client, for unknown names too", async () => {
      const h = from();
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT * 5 + 2; i++) {
        statuses.push((await http.post("auth/login", { username: `nobody_${crypto.randomBytes(4).toString("hex")}`, password: "whatever-123" }, { headers: h })).status);
      }
      expect(statuses.slice(0, LIMIT * 5)).toEqual(Array(LIMIT * 5).fill(401));
      expect(statuses.slice(LIMIT * 5)).toEqual([429, 429]);
      // even a real account with its right password waits, from that client
      const c = await newCustomer(shop);
      expect((await http.post("auth/login", { username: c.username, password: c.password }, { headers: h })).status).toBe(429);
      expect((await http.post("auth/login", { username: c.username, password: c.password }, { headers: from() })).status).toBe(200);
    });

    it("an unknown name is throttled exactly like an account (no enumeration by the answers)", async () => {
      const h = from();
      const ghost = `ghost_${crypto.randomBytes(4).toString("hex")}`;
      const c = await newCustomer(shop);
      const answers = async (username: string) => {
        const out: number[] = [];
        for (let i = 0; i < LIMIT + 1; i++) out.push((await http.post("auth/login", { username, password: "wrong-password" }, { headers: h })).status);
        return out;
      };
      expect(await answers(ghost)).toEqual(await answers(c.username));
      expect(await answers(`${ghost}x`)).toEqual([...Array(LIMIT).fill(401), 429]);
    });
  });
});

describe("embedded restart keeps ended sessions and epochs", () => {
  let shop: Shop;
  let restarted: ServiceBroker | undefined;
  beforeAll(async () => {
    shop = await startShop({ shape: "embedded" });
  });
  afterAll(async () => {
    await restarted?.stop();
    await shop?.stop();
  });

  it("tokens of a logged-out session, a disabled user and a demoted operator stay refused after the node restarts (memory KV starts empty)", async () => {
    const http = client(shop);
    const admin = await loginAdmin(shop);
    const out = await newCustomer(shop);
    const disabled = await newCustomer(shop);
    const demoted = await newCustomer(shop);
    const untouched = await newCustomer(shop);
    await http.put(`admin/users/${demoted.id}/roles`, { roles: ["operator"] }, { token: admin });
    const op = (await http.post("auth/login", { username: demoted.username, password: demoted.password })).body.data.accessToken;
    expect((await http.get("admin/users", { token: op })).status).toBe(200);
    expect((await http.post("auth/logout", {}, { token: out.token })).status).toBe(200);
    expect((await http.patch(`admin/users/${disabled.id}/status`, { status: "DISABLED" }, { token: admin })).status).toBe(200);
    expect((await http.put(`admin/users/${demoted.id}/roles`, { roles: ["customer"] }, { token: admin })).status).toBe(200);

    await shop.brokers[0].stop();
    restarted = createNode(parseConfig({ ...process.env, ...shop.env, NODE_ID: `restart-${shop.id}` })).broker;
    await restarted.start();
    const api = restarted.getLocalService("api") as unknown as { server: { address(): AddressInfo } };
    const again = client({ url: `http://127.0.0.1:${api.server.address().port}` });
    await waitFor(async () => (await again.get("users/me", { token: untouched.token })).status === 200, { what: "restarted gateway" });

    expect((await again.get("users/me", { token: out.token })).body.type).toBe("TOKEN_REVOKED");
    expect((await again.get("users/me", { token: disabled.token })).body.type).toBe("TOKEN_REVOKED");
    expect((await again.get("admin/users", { token: op })).body.type).toBe("TOKEN_REVOKED");
    expect((await again.post("auth/refresh", { refreshToken: disabled.refreshToken })).status).toBe(401);
  });
});
