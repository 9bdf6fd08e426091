import crypto from "node:crypto";
import jwt from "jsonwebtoken";
import { MemoryKv } from "../../services/shared/kv";
import { EpochCache, accessJtiFor, publishEpoch, refreshSecretFor, signAccessToken, verifyAccessToken } from "../../services/shared/tokens";
import { waitFor } from "../helpers/shop";

const SECRET = "unit-test-secret-0123456789";
const user = { id: 7, roles: ["customer"], epoch: 2 };

describe("access tokens", () => {
  it("carry the user's session epoch", () => {
    const { token } = signAccessToken(SECRET, 60, user, "sid-1");
    expect(verifyAccessToken(SECRET, token)).toMatchObject({ id: 7, roles: ["customer"], sid: "sid-1", epoch: 2 });
  });

  it("are byte-identical for the same jti and issue time (a grace-window re-issue)", () => {
    const at = { jti: accessJtiFor(SECRET, "token-1"), issuedAt: 1_700_000_000 };
    expect(signAccessToken(SECRET, 60, user, "sid-1", at).token).toBe(signAccessToken(SECRET, 60, user, "sid-1", at).token);
    expect(accessJtiFor(SECRET, "token-1")).not.toBe(accessJtiFor(SECRET, "token-2"));
  });

  it("are refused when validly signed but without exp", () => {
    const forever = jwt.sign({ roles: ["admin"], sid: "s", ep: 0 }, SECRET, { subject: "1", issuer: "mall", jwtid: crypto.randomUUID() });
    expect(verifyAccessToken(SECRET, forever)).toBeNull();
    // asked twice: the verified-token cache must not let it through either
    expect(verifyAccessToken(SECRET, forever)).toBeNull();
  });
});

describe("refresh secrets", () => {
  it("are derived per token id and key, and cannot be guessed without the key", () => {
    expect(refreshSecretFor(SECRET, "a")).toBe(refreshSecretFor(SECRET, "a"));
    expect(refreshSecretFor(SECRET, "a")).not.toBe(refreshSecretFor(SECRET, "b"));
    expect(refreshSecretFor(`${SECRET}x`, "a")).not.toBe(refreshSecretFor(SECRET, "a"));
    expect(refreshSecretFor(SECRET, "a")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("EpochCache", () => {
  it("reads the KV once per TTL and sees a bump when it expires", async () => {
    const kv = new MemoryKv();
    const get = jest.spyOn(kv, "get");
    const cache = new EpochCache(() => kv, 100);
    expect(await cache.minimum(7)).toBeNull();
    expect(await cache.minimum(7)).toBeNull();
    expect(get).toHaveBeenCalledTimes(1);
    await publishEpoch(kv, 7, 3, 60);
    await waitFor(async () => (await cache.minimum(7)) === 3, { timeout: 2000, what: "the bump seen" });
    await kv.close();
  });

  it("applies a broadcast bump at once and never lowers what it knows", async () => {
    const kv = new MemoryKv();
    const cache = new EpochCache(() => kv, 60_000);
    expect(await cache.minimum(7)).toBeNull();
    cache.raise(7, 4);
    expect(await cache.minimum(7)).toBe(4);
    cache.raise(7, 3);
    expect(await cache.minimum(7)).toBe(4);
    await kv.close();
  });
});
