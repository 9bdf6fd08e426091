/**
 * The sandbox payment provider: what a real provider does on its side, in-process. Completing
 * its "pay page" produces a signed callback (domain/signature.ts) that is POSTed to our notify
 * endpoint like any provider's would be; refunds succeed at once.
 *
 * Delivery (payments.service.ts deliverSandboxCallback): over HTTP to
 * `<PUBLIC_BASE_URL>/api/v1/payments/notify/sandbox` when configured, where the notify route is
 * exempt from the client rate limit; else the very same bytes and header go through
 * `payments.notifySandbox` as a broker call, which verifies them exactly as for HTTP. Never over
 * loopback HTTP to the local gateway: there the shop's own address would share the rate-limit
 * budget of every other client on 127.0.0.1 and payments would stop completing.
 */
import type { SandboxCallback } from "./payments.contracts";
import { SIGNATURE_HEADER, canonicalBody, sign } from "./domain/signature";
import { newNonce, sandboxTxnId } from "./domain/payment-state";

export const NOTIFY_PATH = "/api/v1/payments/notify/sandbox";
export const payPagePath = (paymentNo: string) => `/api/v1/payments/sandbox/${paymentNo}/complete`;

export interface SignedCallback {
  callback: SandboxCallback;
  rawBody: string;
  signature: string;
}

/** Build and sign the callback the provider sends when the buyer finishes the pay page. */
export function signedCallback(
  secret: string,
  p: { paymentNo: string; amount: number; currency: string },
  result: "SUCCESS" | "FAIL",
  now = new Date(),
): SignedCallback {
  const callback: SandboxCallback = {
    paymentNo: p.paymentNo,
    providerTxnId: sandboxTxnId(p.paymentNo),
    amount: p.amount,
    currency: p.currency,
    result,
    timestamp: now.toISOString(),
    nonce: newNonce(),
  };
  const rawBody = canonicalBody(callback);
  return { callback, rawBody, signature: sign(secret, rawBody) };
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** POST the signed bytes to a notify URL, as the provider's servers would. */
export async function postCallback(baseUrl: string, signed: SignedCallback, timeoutMs = 5000): Promise<HttpAnswer> {
  const r = await fetch(`${baseUrl.replace(/\/+$/, "")}${NOTIFY_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signed.signature },
    body: signed.rawBody,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body };
}

/** The sandbox refunds at once; the provider reference is derived from our refund number. */
export function sandboxRefund(refundNo: string): { providerRef: string } {
  return { providerRef: `sbx_rf_${refundNo}` };
}
