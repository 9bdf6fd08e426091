/** The sandbox callback wire format: canonical body, HMAC signature, parsing and freshness. */
import crypto from "node:crypto";
import { CALLBACK_KEYS, CallbackFormatError, canonicalBody, isFresh, parseCallback, sign, verifySignature } from "../../services/payments/domain/signature";
import { signedCallback } from "../../services/payments/sandbox-provider";
import type { SandboxCallback } from "../../services/payments/payments.contracts";

const SECRET = "unit-secret";
const cb: SandboxCallback = {
  paymentNo: "P17000000000001a2b3c4d5e6",
  providerTxnId: "sbx_0011",
  amount: 1999,
  currency: "CNY",
  result: "SUCCESS",
  timestamp: "2026-11-21T05:00:00.000Z",
  nonce: "n0nce",
};

describe("canonical body", () => {
  it("is compact JSON with keys in the documented order, whatever order the object had", () => {
    const shuffled = Object.fromEntries(Object.entries(cb).reverse()) as unknown as SandboxCallback;
    const raw = canonicalBody(shuffled);
    expect(raw).toBe(
      '{"paymentNo":"P17000000000001a2b3c4d5e6","providerTxnId":"sbx_0011","amount":1999,"currency":"CNY","result":"SUCCESS","timestamp":"2026-11-21T05:00:00.000Z","nonce":"n0nce"}',
    );
    expect(Object.keys(JSON.parse(raw))).toEqual([...CALLBACK_KEYS]);
    expect(raw).not.toMatch(/\s/);
  });

  it("round-trips through parseCallback", () => {
    expect(parseCallback(canonicalBody(cb))).toEqual(cb);
  });
});

describe("signature", () => {
  const raw = canonicalBody(cb);

  it("is hex HMAC-SHA256 of the raw body with the secret", () => {
    expect(sign(SECRET, raw)).toBe(crypto.createHmac("sha256", SECRET).update(raw).digest("hex"));
    expect(sign(SECRET, raw)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("verifies the right signature, in either hex case", () => {
    expect(verifySignature(SECRET, raw, sign(SECRET, raw))).toBe(true);
    expect(verifySignature(SECRET, raw, sign(SECRET, raw).toUpperCase())).toBe(true);
    expect(verifySignature(SECRET, Buffer.from(raw), sign(SECRET, raw))).toBe(true);
  });

  it("rejects another secret, a changed byte, and malformed signatures", () => {
    expect(verifySignature(SECRET, raw, sign("other-secret", raw))).toBe(false);
    expect(verifySignature(SECRET, raw.replace("1999", "1998"), sign(SECRET, raw))).toBe(false);
    // the same object serialised differently is different bytes: the signature is over bytes
    expect(verifySignature(SECRET, JSON.stringify(cb, null, 1), sign(SECRET, raw))).toBe(false);
    for (const bad of [undefined, null, "", "abc", sign(SECRET, raw).slice(0, 63), sign(SECRET, raw) + "00", "z".repeat(64), 42]) {
      expect(verifySignature(SECRET, raw, bad)).toBe(false);
    }
  });

  it("the sandbox provider signs exactly what it sends", () => {
    const s = signedCallback(SECRET, { paymentNo: cb.paymentNo, amount: 500, currency: "CNY" }, "FAIL", new Date("2026-01-01T00:00:00Z"));
    expect(s.rawBody).toBe(canonicalBody(s.callback));
    expect(verifySignature(SECRET, s.rawBody, s.signature)).toBe(true);
    expect(s.callback).toMatchObject({ amount: 500, result: "FAIL", timestamp: "2026-01-01T00:00:00.000Z" });
    // completing twice re-sends the payment's one provider transaction, with a fresh nonce
    const again = signedCallback(SECRET, { paymentNo: cb.paymentNo, amount: 500, currency: "CNY" }, "FAIL");
    expect(again.callback.providerTxnId).toBe(s.callback.providerTxnId);
    expect(again.callback.nonce).not.toBe(s.callback.nonce);
  });
});

describe("parseCallback", () => {
  const bad = (o: unknown) => () => parseCallback(typeof o === "string" ? o : JSON.stringify(o));
  it("refuses malformed bodies with a reason", () => {
    expect(bad("not json")).toThrow(CallbackFormatError);
    expect(bad([])).toThrow(/object/);
    expect(bad({ ...cb, extra: 1 })).toThrow(/unknown field/);
    expect(bad({ ...cb, amount: 19.99 })).toThrow(/amount/);
    expect(bad({ ...cb, amount: "1999" })).toThrow(/amount/);
    expect(bad({ ...cb, amount: 0 })).toThrow(/amount/);
    expect(bad({ ...cb, result: "OK" })).toThrow(/result/);
    expect(bad({ ...cb, currency: "cny" })).toThrow(/currency/);
    expect(bad({ ...cb, paymentNo: "P1; DROP TABLE" })).toThrow(/paymentNo/);
    expect(bad({ ...cb, timestamp: "yesterday" })).toThrow(/timestamp/);
    const { nonce: _n, ...noNonce } = cb;
    expect(bad(noNonce)).toThrow(/nonce/);
  });
});

describe("freshness", () => {
  const now = Date.parse("2026-11-21T05:00:00Z");
  it("accepts ±10 minutes and refuses beyond", () => {
    expect(isFresh("2026-11-21T05:00:00Z", now)).toBe(true);
    expect(isFresh("2026-11-21T04:50:00Z", now)).toBe(true);
    expect(isFresh("2026-11-21T05:10:00Z", now)).toBe(true);
    expect(isFresh("2026-11-21T04:49:59Z", now)).toBe(false);
    expect(isFresh("2026-11-21T05:10:01Z", now)).toBe(false);
    expect(isFresh("garbage", now)).toBe(false);
  });
});
