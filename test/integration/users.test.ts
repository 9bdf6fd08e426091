/**
 * Identity and accounts through the gateway over HTTP, in both shapes: embedded (one process,
 * SQLite, memory) and cluster (gateway on one node, users on another, NATS + MariaDB + Redis).
 */
import crypto from "node:crypto";
import { Shop, client, loginAdmin, newCustomer, startShop } from "../helpers/shop";

const shapes: [string, Parameters<typeof startShop>[0]][] = [
  ["embedded", { shape: "embedded" }],
  ["cluster", { shape: "cluster", nodes: [["api"], ["users"]] }],
];

describe.each(shapes)("users (%s)", (_name, opts) => {
  let shop: Shop;
  let http: ReturnType<typeof client>;

  beforeAll(async () => {
    shop = await startShop(opts);
    http = client(shop);
  });
  afterAll(async () => {
    await shop?.stop();
  });

  const uname = () => `u_${crypto.randomBytes(4).toString("hex")}`;

  describe("register and login", () => {
    it("registers with 201 and returns no secrets", async () => {
      const username = uname();
      const r = await http.post("auth/register", { username, password: "password-123", email: `${username}@Example.com` });
      expect(r.status).toBe(201);
      expect(r.body.code).toBe(0);
      expect(r.body.data).toMatchObject({ username, email: `${username}@example.com`, roles: ["customer"] });
      expect(r.text).not.toMatch(/argon|hash|password/i);
      expect(r.headers.get("x-request-id")).toBeTruthy();
      expect(r.body.traceId).toBe(r.headers.get("x-request-id"));
    });

    it("refuses a duplicate username with 409 (case-insensitively) and changes nothing", async () => {
      const username = uname();
      await http.post("auth/register", { username, password: "password-123", email: `${username}@x.com` });
      const r = await http.post("auth/register", { username: username.toUpperCase(), password: "password-456", email: `other-${username}@x.com` });
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ code: 10001, type: "USERNAME_TAKEN" });
      // the original password still works, the second email never got an account
      expect((await http.post("auth/login", { username, password: "password-123" })).status).toBe(200);
      expect((await http.post("auth/login", { username: `other-${username}@x.com`, password: "password-456" })).status).toBe(401);
    });

    it("rejects bad input with 422 listing the fields", async () => {
      const cases: [unknown, string][] = [
        [{ username: "ab", password: "password-123", email: "a@b.co" }, "username"],
        [{ username: "bad name!", password: "password-123", email: "a@b.co" }, "username"],
        [{ username: uname(), password: "short", email: "a@b.co" }, "password"],
        [{ username: uname(), password: "x".repeat(73), email: "a@b.co" }, "password"],
        [{ username: uname(), password: "password-123", email: "not-an-email" }, "email"],
        [{ username: uname(), password: "password-123", email: "<script>@x.com" }, "email"],
        [{ username: uname(), password: "password-123", email: '"<script>"@x.com' }, "email"],
        [{ username: uname(), password: "          ", email: "a@b.co" }, "password"],
        [{ username: uname(), password: " \t \n \t \n ", email: "a@b.co" }, "password"],
        [{ username: uname(), password: 12345678, email: "a@b.co" }, "password"],
        [{ username: uname(), password: "password-123" }, "email"],
        [{ username: uname(), password: "password-123", email: "a@b.co", isAdmin: true }, "isAdmin"],
      ];
      for (const [body, field] of cases) {
        const r = await http.post("auth/register", body);
        expect(r.status).toBe(422);
        expect(r.body.type).toBe("VALIDATION_ERROR");
        expect(r.body.code).toBe(1422);
        expect(r.body.data.map((f: { field: string }) => f.field)).toContain(field);
      }
    });

    it("refuses a whitespace-only new password and a markup email on PATCH /users/me, changing nothing", async () => {
      const c = await newCustomer(shop);
      const pw = await http.post("auth/change-password", { oldPassword: c.password, newPassword: "         " }, { token: c.token });
      expect(pw.status).toBe(422);
      expect(pw.body.data.map((f: { field: string }) => f.field)).toContain("newPassword");
      expect((await http.post("auth/login", { username: c.username, password: c.password })).status).toBe(200);
      for (const email of ["<script>@x.com", '"<img src=x>"@x.com']) {
        const r = await http.patch("users/me", { email }, { token: c.token });
        expect(r.status).toBe(422);
        expect(r.body.data.map((f: { field: string }) => f.field)).toContain("email");
      }
      expect((await http.get("users/me", { token: c.token })).body.data.email).toBe(`${c.username}@example.com`);
      const ok = await http.patch("users/me", { email: `first.last+tag-${c.username}@mail.example.com` }, { token: c.token });
      expect(ok.status).toBe(200);
      expect(ok.body.data.email).toBe(`first.last+tag-${c.username}@mail.example.com`);
    });

    it("answers malformed JSON with 400 and an oversized body with 413", async () => {
      const bad = await http.request("POST", "auth/register", { raw: '{"username": ', headers: { "content-type": "application/json" } });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ type: "BAD_REQUEST" });
      const big = await http.request("POST", "auth/register", {
        raw: JSON.stringify({ username: uname(), password: "password-123", email: "a@b.co", pad: "x".repeat(1_100_000) }),
        headers: { "content-type": "application/json" },
      });
      expect(big.status).toBe(413);
      expect(big.body).toMatchObject({ type: "PAYLOAD_TOO_LARGE", code: 1413 });
    });

    it("logs in by username or email; wrong password is 401 without saying which part", async () => {
      const c = await newCustomer(shop);
      const byEmail = await http.post("auth/login", { username: `${c.username}@example.com`, password: c.password });
      expect(byEmail.status).toBe(200);
      expect(byEmail.body.data).toMatchObject({ expiresIn: 900, user: { id: c.id } });
      const wrongPw = await http.post("auth/login", { username: c.username, password: "wrong-password" });
      const noUser = await http.post("auth/login", { username: "nobody_" + c.username, password: "wrong-password" });
      expect(wrongPw.status).toBe(401);
      expect(noUser.status).toBe(401);
      expect(wrongPw.body.message).toBe(noUser.body.message);
      expect(wrongPw.body.type).toBe("INVALID_CREDENTIALS");
    });

    it("stores and returns SQL-looking strings verbatim", async () => {
      const c = await newCustomer(shop);
      const nasty = "Robert'); DROP TABLE users;--";
      const r = await http.patch("users/me", { nickname: nasty }, { token: c.token });
      expect(r.status).toBe(200);
      expect((await http.get("users/me", { token: c.token })).body.data.nickname).toBe(nasty);
      const list = await http.get(`users/me/addresses`, { token: c.token });
      expect(list.status).toBe(200);
    });
  });

  describe("tokens", () => {
    it("401s missing, forged and garbage tokens", async () => {
      expect((await http.get("users/me")).status).toBe(401);
      const c = await newCustomer(shop);
      const [h, p] = c.token.split(".");
      const forged = `${h}.${p}.${Buffer.from("forged-signature").toString("base64url")}`;
      const r1 = await http.get("users/me", { token: forged });
      expect(r1.status).toBe(401);
      expect(r1.body.type).toBe("TOKEN_INVALID");
      // a token signed with another secret, claiming admin
      const jwt = await import("jsonwebtoken");
      const alien = jwt.sign({ roles: ["admin"], sid: crypto.randomUUID() }, "another-secret-0123456789", { subject: String(c.id), issuer: "mall", jwtid: "x" });
      expect((await http.get("admin/users", { token: alien })).status).toBe(401);
      expect((await http.get("users/me", { token: "garbage" })).status).toBe(401);
      expect((await http.get("users/me", { headers: { authorization: "Basic abc" } })).status).toBe(401);
    });

    it("401s a validly signed token that has no exp", async () => {
      const c = await newCustomer(shop);
      const jwt = await import("jsonwebtoken");
      const claims = jwt.decode(c.token) as { sid: string; roles: string[]; ep: number };
      const forever = jwt.sign({ roles: claims.roles, sid: claims.sid, ep: claims.ep }, shop.env.JWT_SECRET, { subject: String(c.id), issuer: "mall", jwtid: crypto.randomUUID() });
      expect((jwt.decode(forever) as { exp?: number }).exp).toBeUndefined();
      const r = await http.get("users/me", { token: forever });
      expect(r.status).toBe(401);
      expect(r.body.type).toBe("TOKEN_INVALID");
    });

    it("401s an expired token", async () => {
      const c = await newCustomer(shop);
      const jwt = await import("jsonwebtoken");
      const claims = jwt.decode(c.token) as { sid: string; roles: string[] };
      const expired = jwt.sign({ roles: claims.roles, sid: claims.sid }, shop.env.JWT_SECRET, {
        subject: String(c.id),
        issuer: "mall",
        jwtid: crypto.randomUUID(),
        expiresIn: -10,
      });
      const r = await http.get("users/me", { token: expired });
      expect(r.status).toBe(401);
    });

    it("rotates refresh tokens; a token rotated twice coming back revokes the whole family", async () => {
      const c = await newCustomer(shop);
      const r1 = await http.post("auth/refresh", { refreshToken: c.refreshToken });
      expect(r1.status).toBe(200);
      const second = r1.body.data.refreshToken;
      expect(second).not.toBe(c.refreshToken);
      expect((await http.get("users/me", { token: r1.body.data.accessToken })).status).toBe(200);
      const r2 = await http.post("auth/refresh", { refreshToken: second });
      expect(r2.status).toBe(200);

      // the first token is no longer the one just rotated: replaying it is theft or a bug
      const replay = await http.post("auth/refresh", { refreshToken: c.refreshToken });
      expect(replay.status).toBe(401);
      expect(replay.body.type).toBe("TOKEN_REVOKED");
      expect((await http.post("auth/refresh", { refreshToken: r2.body.data.refreshToken })).status).toBe(401);
      expect((await http.post("auth/refresh", { refreshToken: second })).status).toBe(401);
      // and so do the access tokens of that session, at once
      expect((await http.get("users/me", { token: r2.body.data.accessToken })).status).toBe(401);
      expect((await http.get("users/me", { token: c.token })).status).toBe(401);
    });

    it("20 parallel refreshes of one token (tabs racing) all get the same new pair, which alone works on", async () => {
      const c = await newCustomer(shop);
      const results = await Promise.all(Array.from({ length: 20 }, () => http.post("auth/refresh", { refreshToken: c.refreshToken })));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(new Set(results.map((r) => r.body.data.refreshToken)).size).toBe(1);
      expect(new Set(results.map((r) => r.body.data.accessToken)).size).toBe(1);
      const next = await http.post("auth/refresh", { refreshToken: results[0].body.data.refreshToken });
      expect(next.status).toBe(200);
      expect((await http.get("users/me", { token: next.body.data.accessToken })).status).toBe(200);
    });

    it("logout stops the access token at once and kills the refresh token", async () => {
      const c = await newCustomer(shop);
      const other = await http.post("auth/login", { username: c.username, password: c.password });
      expect((await http.post("auth/logout", {}, { token: c.token })).status).toBe(200);
      expect((await http.get("users/me", { token: c.token })).status).toBe(401);
      expect((await http.get("users/me", { token: c.token })).body.type).toBe("TOKEN_REVOKED");
      expect((await http.post("auth/refresh", { refreshToken: c.refreshToken })).status).toBe(401);
      // another session of the same user is untouched
      expect((await http.get("users/me", { token: other.body.data.accessToken })).status).toBe(200);
    });

    it("change password revokes other sessions but keeps this one", async () => {
      const c = await newCustomer(shop);
      const other = (await http.post("auth/login", { username: c.username, password: c.password })).body.data;
      const wrong = await http.post("auth/change-password", { oldPassword: "not-it-123", newPassword: "new-password-1" }, { token: c.token });
      expect(wrong.status).toBe(401);
      const ok = await http.post("auth/change-password", { oldPassword: c.password, newPassword: "new-password-1" }, { token: c.token });
      expect(ok.status).toBe(200);
      expect((await http.get("users/me", { token: c.token })).status).toBe(200);
      expect((await http.get("users/me", { token: other.accessToken })).status).toBe(401);
      expect((await http.post("auth/refresh", { refreshToken: other.refreshToken })).status).toBe(401);
      expect((await http.post("auth/login", { username: c.username, password: c.password })).status).toBe(401);
      expect((await http.post("auth/login", { username: c.username, password: "new-password-1" })).status).toBe(200);
    });
  });

  describe("profile and addresses", () => {
    it("reads and updates the profile; refuses unknown fields", async () => {
      const c = await newCustomer(shop);
      const me = await http.get("users/me", { token: c.token });
      expect(me.body.data).toMatchObject({ id: c.id, username: c.username, roles: ["customer"] });
      const up = await http.patch("users/me", { nickname: "小明", mobile: "13800138000" }, { token: c.token });
      expect(up.status).toBe(200);
      expect((await http.get("users/me", { token: c.token })).body.data).toMatchObject({ nickname: "小明", mobile: "13800138000" });
      const bad = await http.patch("users/me", { roles: ["admin"] }, { token: c.token });
      expect(bad.status).toBe(422);
      expect((await http.get("users/me", { token: c.token })).body.data.roles).toEqual(["customer"]);
    });

    const addr = (n: number, extra: Record<string, unknown> = {}) => ({
      name: `收件人${n}`,
      mobile: "13800000000",
      province: "浙江省",
      city: "杭州市",
      district: "西湖区",
      detail: `文三路 ${n} 号`,
      ...extra,
    });

    it("keeps exactly one default address through create, switch and delete", async () => {
      const c = await newCustomer(shop);
      const a1 = (await http.post("users/me/addresses", addr(1), { token: c.token })).body.data;
      expect(a1.isDefault).toBe(true);
      const a2 = (await http.post("users/me/addresses", addr(2), { token: c.token })).body.data;
      expect(a2.isDefault).toBe(false);
      const a3 = (await http.post("users/me/addresses", addr(3, { isDefault: true }), { token: c.token })).body.data;
      expect(a3.isDefault).toBe(true);
      let list = (await http.get("users/me/addresses", { token: c.token })).body.data;
      expect(list.filter((a: { isDefault: boolean }) => a.isDefault).map((a: { id: number }) => a.id)).toEqual([a3.id]);
      await http.patch(`users/me/addresses/${a1.id}`, { isDefault: true }, { token: c.token });
      list = (await http.get("users/me/addresses", { token: c.token })).body.data;
      expect(list.filter((a: { isDefault: boolean }) => a.isDefault).map((a: { id: number }) => a.id)).toEqual([a1.id]);
      expect((await http.del(`users/me/addresses/${a1.id}`, { token: c.token })).status).toBe(200);
      list = (await http.get("users/me/addresses", { token: c.token })).body.data;
      expect(list).toHaveLength(2);
      expect(list.filter((a: { isDefault: boolean }) => a.isDefault)).toHaveLength(1);
    });

    it("allows at most 20 addresses, even when created concurrently", async () => {
      const c = await newCustomer(shop);
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => http.post("users/me/addresses", addr(i), { token: c.token })));
      expect(results.filter((r) => r.status === 201)).toHaveLength(20);
      const refused = results.filter((r) => r.status !== 201);
      expect(refused.every((r) => r.status === 409 && r.body.type === "ADDRESS_LIMIT_REACHED")).toBe(true);
      const list = (await http.get("users/me/addresses", { token: c.token })).body.data;
      expect(list).toHaveLength(20);
      expect(list.filter((a: { isDefault: boolean }) => a.isDefault)).toHaveLength(1);
    });

    it("another user's address is 404 and stays unchanged", async () => {
      const a = await newCustomer(shop);
      const b = await newCustomer(shop);
      const mine = (await http.post("users/me/addresses", addr(1), { token: a.token })).body.data;
      expect((await http.patch(`users/me/addresses/${mine.id}`, { detail: "hijacked" }, { token: b.token })).status).toBe(404);
      expect((await http.del(`users/me/addresses/${mine.id}`, { token: b.token })).status).toBe(404);
      expect((await http.patch(`users/me/addresses/999999`, { detail: "x" }, { token: a.token })).body.type).toBe("ADDRESS_NOT_FOUND");
      const list = (await http.get("users/me/addresses", { token: a.token })).body.data;
      expect(list[0].detail).toBe(mine.detail);
    });
  });

  describe("roles and admin", () => {
    it("customers get 403 on admin routes; admins list and grant roles", async () => {
      const c = await newCustomer(shop);
      const r = await http.get("admin/users", { token: c.token });
      expect(r.status).toBe(403);
      expect(r.body.type).toBe("FORBIDDEN");
      const admin = await loginAdmin(shop);
      const list = await http.get(`admin/users?q=${c.username}`, { token: admin });
      expect(list.status).toBe(200);
      expect(list.body.data).toMatchObject({ total: 1, page: 1, pageSize: 20 });
      expect(list.body.data.items[0].username).toBe(c.username);

      const grant = await http.put(`admin/users/${c.id}/roles`, { roles: ["operator"] }, { token: admin });
      expect(grant.status).toBe(200);
      expect(grant.body.data.roles).toEqual(["customer", "operator"]);
      // the new role applies from the next token
      const t2 = (await http.post("auth/login", { username: c.username, password: c.password })).body.data.accessToken;
      expect((await http.get("admin/users?role=operator", { token: t2 })).status).toBe(200);
      // operators may read but only admins grant roles or credit wallets
      expect((await http.put(`admin/users/${c.id}/roles`, { roles: ["admin"] }, { token: t2 })).status).toBe(403);
      expect((await http.post(`admin/users/${c.id}/wallet/credit`, { amount: 100, reason: "x" }, { token: t2 })).status).toBe(403);
      expect((await http.get("users/me", { token: t2 })).body.data.roles).toEqual(["customer", "operator"]);
    });

    it("search takes _, %, \\ and ! literally (LIKE escaping on SQLite and MySQL)", async () => {
      const admin = await loginAdmin(shop);
      const r = crypto.randomBytes(4).toString("hex");
      const named = async (nickname: string) => {
        const c = await newCustomer(shop);
        expect((await http.patch("users/me", { nickname }, { token: c.token })).status).toBe(200);
        return c;
      };
      // each has a look-alike that an unescaped wildcard would also match
      const underscore = await named(`n${r}_x`);
      await named(`n${r}yx`);
      const percent = await named(`p${r}%q`);
      await named(`p${r}zzq`);
      const backslash = await named(`b${r}\\s`);
      await named(`b${r}s`);
      const bang = await named(`e${r}!_`);
      await named(`e${r}_`);
      const search = async (q: string) => {
        const res = await http.get(`admin/users?q=${encodeURIComponent(q)}`, { token: admin });
        expect(res.status).toBe(200);
        return res.body.data.items.map((u: { id: number }) => u.id);
      };
      expect(await search(`${r}_x`)).toEqual([underscore.id]);
      expect(await search(`${r}%q`)).toEqual([percent.id]);
      expect(await search(`${r}\\s`)).toEqual([backslash.id]);
      expect(await search(`${r}!_`)).toEqual([bang.id]);
      // and usernames with `_` are found by their underscore too
      const u = await newCustomer(shop, `z${r}_`);
      expect(await search(`z${r}_`)).toEqual([u.id]);
    });

    it("rejects absurd page sizes and unknown roles", async () => {
      const admin = await loginAdmin(shop);
      expect((await http.get("admin/users?pageSize=1000", { token: admin })).status).toBe(422);
      expect((await http.get("admin/users?role=king", { token: admin })).status).toBe(422);
      const c = await newCustomer(shop);
      expect((await http.put(`admin/users/${c.id}/roles`, { roles: ["king"] }, { token: admin })).status).toBe(422);
      expect((await http.put(`admin/users/99999999/roles`, { roles: ["admin"] }, { token: admin })).status).toBe(404);
    });
  });

  describe("wallet", () => {
    it("admin credit shows up in the balance and ledger; bad amounts change nothing", async () => {
      const c = await newCustomer(shop);
      const admin = await loginAdmin(shop);
      for (const amount of [0, -5, 1.5, "100"]) {
        const r = await http.post(`admin/users/${c.id}/wallet/credit`, { amount, reason: "bad" }, { token: admin });
        expect(r.status).toBe(422);
      }
      const ok = await http.post(`admin/users/${c.id}/wallet/credit`, { amount: 5000, reason: "welcome" }, { token: admin, headers: { "Idempotency-Key": "credit-1" } });
      expect(ok.status).toBe(200);
      // the same Idempotency-Key is not applied twice
      const again = await http.post(`admin/users/${c.id}/wallet/credit`, { amount: 5000, reason: "welcome" }, { token: admin, headers: { "Idempotency-Key": "credit-1" } });
      expect(again.status).toBe(200);
      const w = (await http.get("users/me/wallet", { token: c.token })).body.data;
      expect(w.balance).toBe(5000);
      expect(w.currency).toBe("CNY");
      expect(w.entries).toHaveLength(1);
      expect(w.entries[0]).toMatchObject({ amount: 5000, balanceAfter: 5000, type: "CREDIT", reason: "welcome" });
    });

    it("50 concurrent debits against a balance covering 10: exactly 10 succeed, never negative", async () => {
      const c = await newCustomer(shop);
      const admin = await loginAdmin(shop);
      await http.post(`admin/users/${c.id}/wallet/credit`, { amount: 1000, reason: "top up" }, { token: admin });
      const users = shop.brokerFor("users");
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => users.call("users.walletDebit", { userId: c.id, amount: 100, reference: `order-${c.id}-${i}`, reason: "pay" })),
      );
      const ok = results.filter((r) => r.status === "fulfilled");
      expect(ok).toHaveLength(10);
      const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      expect(failed.every((f) => f.reason.type === "INSUFFICIENT_BALANCE")).toBe(true);
      const w = (await http.get("users/me/wallet?pageSize=100", { token: c.token })).body.data;
      expect(w.balance).toBe(0);
      expect(w.entries).toHaveLength(11);
      expect(w.entries.reduce((s: number, e: { amount: number }) => s + e.amount, 0)).toBe(w.balance);
      expect(Math.min(...w.entries.map((e: { balanceAfter: number }) => e.balanceAfter))).toBe(0);
    });

    it("a debit is applied once per reference, even when retried concurrently", async () => {
      const c = await newCustomer(shop);
      const admin = await loginAdmin(shop);
      await http.post(`admin/users/${c.id}/wallet/credit`, { amount: 1000, reason: "top up" }, { token: admin });
      const users = shop.brokerFor("users");
      const results = await Promise.all(Array.from({ length: 10 }, () => users.call("users.walletDebit", { userId: c.id, amount: 300, reference: `pay-${c.id}`, reason: "pay" })));
      expect(results.filter((r: any) => r.applied)).toHaveLength(1);
      expect(new Set(results.map((r: any) => r.entry.id)).size).toBe(1);
      const conflict = await users.call("users.walletDebit", { userId: c.id, amount: 999, reference: `pay-${c.id}`, reason: "pay" }).catch((e: any) => e) as any;
      expect(conflict.type).toBe("WALLET_REFERENCE_CONFLICT");
      const w = (await http.get("users/me/wallet", { token: c.token })).body.data;
      expect(w.balance).toBe(700);
    });

    it("a repeated debit answers the first one even when the balance no longer covers it", async () => {
      const c = await newCustomer(shop);
      const admin = await loginAdmin(shop);
      await http.post(`admin/users/${c.id}/wallet/credit`, { amount: 500, reason: "top up" }, { token: admin });
      const users = shop.brokerFor("users");
      const first: any = await users.call("users.walletDebit", { userId: c.id, amount: 400, reference: `again-${c.id}`, reason: "pay" });
      expect(first).toMatchObject({ applied: true, balance: 100 });
      const again: any = await users.call("users.walletDebit", { userId: c.id, amount: 400, reference: `again-${c.id}`, reason: "pay" });
      expect(again).toMatchObject({ applied: false, balance: 100, entry: { id: first.entry.id } });
      const short = await users.call("users.walletDebit", { userId: c.id, amount: 400, reference: `other-${c.id}`, reason: "pay" }).catch((e: any) => e) as any;
      expect(short.type).toBe("INSUFFICIENT_BALANCE");
      expect((await http.get("users/me/wallet", { token: c.token })).body.data.balance).toBe(100);
    });
  });

  describe("operations", () => {
    it("health, ready and a generated OpenAPI document", async () => {
      const h = await http.get("/health");
      expect(h.status).toBe(200);
      const ready = await http.get("/ready");
      expect(ready.status).toBe(200);
      expect(Object.values(ready.body.data.checks).every((v) => v === "ok")).toBe(true);
      if (shop.shape === "cluster") expect(Object.keys(ready.body.data.checks).sort()).toEqual(["channels", "database", "redis", "routes", "services", "transport"]);
      const doc = await http.get("/api/openapi.json");
      expect(doc.status).toBe(200);
      const reg = doc.body.paths["/api/v1/auth/register"].post;
      expect(reg.requestBody.content["application/json"].schema.required).toEqual(["username", "password", "email"]);
      expect(reg.security).toEqual([]);
      expect(doc.body.paths["/api/v1/admin/users/{id}/roles"].put["x-roles"]).toEqual(["admin"]);
      const status = doc.body.paths["/api/v1/admin/users/{id}/status"].patch;
      expect(status["x-roles"]).toEqual(["admin"]);
      expect(status.requestBody.content["application/json"].schema.properties.status.enum).toEqual(["ACTIVE", "DISABLED"]);
      expect(doc.body.paths["/api/v1/admin/users/{id}/revoke-sessions"].post["x-roles"]).toEqual(["admin"]);
      const docs = await http.get("/api/docs");
      expect(docs.status).toBe(200);
      expect(docs.text).toContain("swagger-ui");
      expect((await http.get("/api/docs/swagger-ui-bundle.js")).status).toBe(200);
    });

    it("unknown routes are an enveloped 404 with a request id", async () => {
      const r = await http.get("no/such/route");
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ code: 1404, type: "NOT_FOUND" });
      expect(r.body.traceId).toBe(r.headers.get("x-request-id"));
      const withId = await http.get("no/such/route", { headers: { "X-Request-Id": "client-supplied-id-1" } });
      expect(withId.headers.get("x-request-id")).toBe("client-supplied-id-1");
    });
  });
});
