import { Readable } from "node:stream";
import { Errors, ServiceBroker, Validators } from "moleculer";
import ApiGateway from "moleculer-web";
import { clientErrorResponse, mapError, success } from "../../services/api/envelope";
import { ERRORS, ErrorType, bizError, retryableError, validationError } from "../../services/shared/errors";
import { StrictValidator } from "../../services/shared/validator";

const WebErrors = (ApiGateway as unknown as { Errors: Record<string, new (...a: unknown[]) => Error> }).Errors;
const bodyParser = (ApiGateway as unknown as { bodyParser: { json(o: object): (req: unknown, res: unknown, next: (err?: unknown) => void) => void } })
  .bodyParser;

/** Run moleculer-web's own JSON body parser over a body and return the error it produces. */
function bodyParserError(body: string, opts: { limit?: string; contentType?: string } = {}): Promise<unknown> {
  const req = Object.assign(Readable.from([Buffer.from(body)]), {
    headers: { "content-type": opts.contentType ?? "application/json", "content-length": String(Buffer.byteLength(body)) },
    method: "POST",
    url: "/api/v1/x",
  });
  return new Promise((resolve) => bodyParser.json({ strict: true, limit: opts.limit ?? "1mb" })(req, {}, (err) => resolve(err)));
}

const TRACE = "trace-0123456789";

describe("success envelope", () => {
  it("wraps data with code 0 and the trace id", () => {
    expect(success({ id: 1 }, TRACE)).toEqual({ code: 0, message: "ok", data: { id: 1 }, traceId: TRACE });
  });
  it("turns undefined into null so the field is always present", () => {
    expect(success(undefined, TRACE).data).toBeNull();
    expect(JSON.parse(JSON.stringify(success(undefined, TRACE)))).toHaveProperty("data", null);
  });
});

describe("5xx are masked as INTERNAL_ERROR", () => {
  const leaks = [
    new Error("ER_BAD_FIELD_ERROR: Unknown column 'password_hash' in 'SELECT * FROM users'"),
    Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:3306"), { code: "ECONNREFUSED" }),
    Object.assign(new Error("Table 'mall.orders' doesn't exist"), { name: "SequelizeDatabaseError", sql: "SELECT * FROM orders", status: 500 }),
    new Errors.MoleculerServerError("redis said NOAUTH", 500, "REDIS_DOWN", { host: "redis.internal" }),
    new Errors.MoleculerError("Something with a secret token abc123", 500, "CUSTOM_FAILURE", { token: "abc123" }),
    new Errors.MaxCallLevelError({ nodeID: "node-1", level: 21 }),
    new Errors.ServiceSchemaError("bad schema", {}),
    "a thrown string",
    null,
  ];

  it.each(leaks.map((e) => [e instanceof Error ? `${e.name}: ${e.message}` : String(e), e]))("%s", (_label, err) => {
    const m = mapError(err, TRACE);
    expect(m.status).toBe(500);
    expect(m.internal).toBe(true);
    expect(m.body).toEqual({ code: 1500, type: "INTERNAL_ERROR", message: "internal error", data: {}, traceId: TRACE });
    expect(JSON.stringify(m.body)).not.toMatch(/SELECT|password|ECONNREFUSED|10\.0\.0\.7|redis|abc123|secret|node-1|stack/i);
  });

  it("a stack trace never reaches the body", () => {
    const err = new Error("boom");
    const m = mapError(err, TRACE);
    expect(JSON.stringify(m.body)).not.toContain("at ");
  });
});

describe("dependency failures keep a stable type and status but no details", () => {
  const cases: [string, unknown, number, string][] = [
    ["retryableError (503)", retryableError("mysql is down at 10.0.0.7"), 503, "SERVICE_UNAVAILABLE"],
    ["RequestRejectedError (503)", new Errors.RequestRejectedError({ action: "users.me", nodeID: "n1" }), 503, "SERVICE_UNAVAILABLE"],
    ["RequestTimeoutError (504)", new Errors.RequestTimeoutError({ action: "users.me", nodeID: "n1" }), 504, "REQUEST_TIMEOUT"],
    // moleculer gives these 404 and 429; to a client both mean "a dependency is down or overloaded"
    ["ServiceNotAvailableError (404 in moleculer)", new Errors.ServiceNotAvailableError({ action: "users.me", nodeID: "n1" }), 503, "SERVICE_UNAVAILABLE"],
    ["QueueIsFullError (429 in moleculer)", new Errors.QueueIsFullError({ action: "seckill.purchase", nodeID: "n1" }), 503, "SERVICE_UNAVAILABLE"],
    ["moleculer-web ServiceUnavailableError", new WebErrors.ServiceUnavailableError(), 503, "SERVICE_UNAVAILABLE"],
  ];
  it.each(cases)("%s", (_label, err, status, type) => {
    const m = mapError(err, TRACE);
    expect(m.status).toBe(status);
    expect(m.body.type).toBe(type);
    expect(m.body.code).toBe(ERRORS[type as ErrorType].code);
    expect(m.body.message).toBe(ERRORS[type as ErrorType].message);
    // the only detail a client gets: trying again later may work
    expect(m.body.data).toEqual({ retryable: true });
    expect(JSON.stringify(m.body)).not.toMatch(/10\.0\.0\.7|users\.me|seckill|n1/);
  });

  it("an action no node serves (its service is down) is a retryable 503 that does not name the action", () => {
    const m = mapError(new Errors.ServiceNotFoundError({ action: "secret.internalAction" }), TRACE);
    expect(m.status).toBe(503);
    expect(m.body).toEqual({ code: 1503, type: "SERVICE_UNAVAILABLE", message: "service unavailable", data: { retryable: true }, traceId: TRACE });
  });

  it("a request Node's parser refused gets a whole HTTP response with the envelope and a request id", () => {
    const raw = clientErrorResponse("HPE_HEADER_OVERFLOW", TRACE);
    const [head, body] = raw.split("\r\n\r\n");
    expect(head.split("\r\n")[0]).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    expect(head).toContain(`X-Request-Id: ${TRACE}`);
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
    expect(JSON.parse(body)).toEqual({ code: 1431, type: "HEADERS_TOO_LARGE", message: "request headers too large", data: {}, traceId: TRACE });
    expect(clientErrorResponse("HPE_INVALID_URL", TRACE)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });
});

describe("validation failures: 422 VALIDATION_ERROR listing the fields", () => {
  it("from an action's params (the house StrictValidator on a real broker), without echoing values", async () => {
    const broker = new ServiceBroker({ logger: false, validator: new StrictValidator(), metrics: false });
    broker.createService({
      name: "shop",
      actions: { register: { params: { username: "string|min:3", password: "string|min:8" }, handler: () => "ok" } },
    });
    await broker.start();
    const err = await broker.call("shop.register", { password: "hunter2", admin: true }).catch((e: unknown) => e);
    await broker.stop();
    const m = mapError(err, TRACE);
    expect(m.status).toBe(422);
    expect(m.internal).toBe(false);
    expect(m.body.code).toBe(1422);
    expect(m.body.type).toBe("VALIDATION_ERROR");
    expect(m.body.message).toBe("validation failed");
    const fields = (m.body.data as { field: string; type: string; message: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(["admin", "password", "username"]);
    for (const d of m.body.data as Record<string, unknown>[]) {
      expect(Object.keys(d).sort()).toEqual(expect.arrayContaining(["field", "message", "type"]));
      expect(d).not.toHaveProperty("actual");
    }
    expect(JSON.stringify(m.body)).not.toContain("hunter2");
  });

  it("from validationError() in a service", () => {
    const m = mapError(validationError([{ field: "quantity", message: "must be 1-99" }]), TRACE);
    expect(m.status).toBe(422);
    expect(m.body.data).toEqual([{ field: "quantity", type: "invalid", message: "must be 1-99" }]);
  });

  it("from a plain object that crossed the transporter", () => {
    const wire = { name: "ValidationError", message: "Parameters validation error!", code: 422, type: "VALIDATION_ERROR", data: [{ type: "required", field: "email", message: "The 'email' field is required.", actual: "x@y" }] };
    const m = mapError(wire, TRACE);
    expect(m.status).toBe(422);
    expect(m.body.data).toEqual([{ type: "required", field: "email", message: "The 'email' field is required." }]);
  });

  it("bare Validators.Fastest errors are mapped the same way", () => {
    let err: unknown;
    try {
      new Validators.Fastest().validate({}, { id: "number" } as never);
    } catch (e) {
      err = e;
    }
    expect(mapError(err, TRACE).body).toMatchObject({ code: 1422, type: "VALIDATION_ERROR", data: [{ field: "id" }] });
  });
});

describe("body-parser errors (moleculer-web's JSON parser)", () => {
  it("malformed JSON → 400 BAD_REQUEST without the parser's message", async () => {
    const err = await bodyParserError("{not json");
    expect(err).toBeTruthy();
    const m = mapError(err, TRACE);
    expect(m.status).toBe(400);
    expect(m.internal).toBe(false);
    expect(m.body).toEqual({ code: 1400, type: "BAD_REQUEST", message: "malformed request body", data: {}, traceId: TRACE });
  });

  it("too large → 413 PAYLOAD_TOO_LARGE", async () => {
    const err = await bodyParserError(JSON.stringify({ blob: "x".repeat(200) }), { limit: "100b" });
    const m = mapError(err, TRACE);
    expect(m.status).toBe(413);
    expect(m.body).toMatchObject({ code: 1413, type: "PAYLOAD_TOO_LARGE", message: "request body too large", data: {} });
  });

  it("unsupported charset → 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const err = await bodyParserError("{}", { contentType: "application/json; charset=latin-9" });
    const m = mapError(err, TRACE);
    expect(m.status).toBe(415);
    expect(m.body.type).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect(m.body.message).not.toContain("latin");
  });

  it("moleculer-web InvalidRequestBodyError → 400 BAD_REQUEST", () => {
    const m = mapError(new WebErrors.InvalidRequestBodyError("{x", "Unexpected token x"), TRACE);
    expect(m.status).toBe(400);
    expect(m.body).toMatchObject({ type: "BAD_REQUEST", message: "malformed request body", data: {} });
  });
});

describe("gateway errors from moleculer-web", () => {
  it("RateLimitExceeded → 429 RATE_LIMITED", () => {
    const m = mapError(new WebErrors.RateLimitExceeded(), TRACE);
    expect(m.status).toBe(429);
    expect(m.body).toEqual({ code: 1429, type: "RATE_LIMITED", message: "too many requests", data: {}, traceId: TRACE });
  });

  it("UnAuthorizedError (no token / invalid token) → 401 UNAUTHORIZED", () => {
    for (const t of [WebErrors.ERR_NO_TOKEN, WebErrors.ERR_INVALID_TOKEN]) {
      const m = mapError(new WebErrors.UnAuthorizedError(t), TRACE);
      expect(m.status).toBe(401);
      expect(m.body).toMatchObject({ code: 1401, type: "UNAUTHORIZED", message: "authentication required" });
    }
  });

  it("NotFoundError (no route) → 404 NOT_FOUND", () => {
    const m = mapError(new WebErrors.NotFoundError(), TRACE);
    expect(m.status).toBe(404);
    expect(m.body).toMatchObject({ code: 1404, type: "NOT_FOUND" });
  });

  it("a 4xx without a stable type is generalised by status and keeps no message", () => {
    const plain = Object.assign(new Error("internal detail: users table"), { code: 404 });
    expect(mapError(plain, TRACE).body).toMatchObject({ type: "NOT_FOUND", message: "not found", code: 1404 });
    const lib = { status: 400, type: "entity.verify.failed", message: "hmac mismatch for key k1", data: { key: "k1" } };
    expect(mapError(lib, TRACE).body).toMatchObject({ type: "BAD_REQUEST", data: {} });
    expect(JSON.stringify(mapError(lib, TRACE).body)).not.toContain("k1");
  });
});

describe("typed business errors keep type, code and message", () => {
  it("bizError with a custom message and data", () => {
    const m = mapError(bizError("ORDER_STATE_CONFLICT", "order is already paid", { orderNo: "O1" }), TRACE);
    expect(m.status).toBe(409);
    expect(m.internal).toBe(false);
    expect(m.body).toEqual({ code: 30004, type: "ORDER_STATE_CONFLICT", message: "order is already paid", data: { orderNo: "O1" }, traceId: TRACE });
  });

  it("the same error as a plain object from another node", () => {
    const wire = { name: "MoleculerClientError", message: "sold out", code: 409, type: "SECKILL_SOLD_OUT", data: {} };
    expect(mapError(wire, TRACE)).toEqual({ status: 409, internal: false, body: { code: 60001, type: "SECKILL_SOLD_OUT", message: "sold out", data: {}, traceId: TRACE } });
  });

  it("every 4xx type in the catalogue round-trips with its own status, code and default message", () => {
    for (const [type, def] of Object.entries(ERRORS)) {
      if (def.status >= 500) continue;
      const m = mapError(bizError(type as ErrorType), TRACE);
      expect({ type, status: m.status, code: m.body.code, t: m.body.type, message: m.body.message }).toEqual({
        type,
        status: def.status,
        code: def.code,
        t: type,
        message: def.message,
      });
    }
  });
});
