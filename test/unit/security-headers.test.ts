import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { SECURITY_HEADERS, helmetHeaders, requestLogLevel, securityHeaders } from "../../services/api/api.service";

/** The gateway computes helmet's headers once; they must be exactly what helmet sets per request. */
function realResponse() {
  const req = new IncomingMessage(new Socket());
  req.method = "GET";
  req.url = "/api/v1/products";
  return { req, res: new ServerResponse(req) };
}

describe("security headers computed once", () => {
  it("equal helmet's own output on a real response, header for header", () => {
    const a = realResponse();
    helmetHeaders(a.req, a.res, () => undefined);
    const b = realResponse();
    securityHeaders(b.req, b.res, () => undefined);
    expect(b.res.getHeaders()).toEqual(a.res.getHeaders());
    expect(SECURITY_HEADERS.length).toBeGreaterThanOrEqual(10);
    const csp = b.res.getHeader("content-security-policy");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("upgrade-insecure-requests");
    expect(b.res.getHeader("x-frame-options")).toBe("DENY");
    expect(b.res.getHeader("cross-origin-resource-policy")).toBe("cross-origin");
  });
});

describe("moleculer-web's per-request log lines", () => {
  it("are asked for at debug and trace only", () => {
    expect(requestLogLevel("debug")).toBe("debug");
    expect(requestLogLevel("trace")).toBe("debug");
    for (const level of ["info", "warn", "error", "fatal"]) expect(requestLogLevel(level)).toBeNull();
  });
});
