/**
 * The response envelope of API.md and the mapping of any error to a safe client response.
 * Pure functions: unit tested without a broker.
 */
import { ERRORS, codeFor } from "../shared/errors";

export interface SuccessEnvelope<T = unknown> {
  code: 0;
  message: "ok";
  data: T;
  traceId: string;
}
export interface ErrorEnvelope {
  code: number;
  type: string;
  message: string;
  data: unknown;
  traceId: string;
}

export function success<T>(data: T, traceId: string): SuccessEnvelope<T> {
  return { code: 0, message: "ok", data: data === undefined ? (null as T) : data, traceId };
}

interface AnyError {
  name?: string;
  message?: string;
  code?: number | string;
  status?: number;
  statusCode?: number;
  type?: string;
  data?: unknown;
}

/** Transport-level error types (moleculer, moleculer-web, body-parser) → our stable types. */
const TYPE_ALIASES: Record<string, string> = {
  NO_TOKEN: "UNAUTHORIZED",
  INVALID_TOKEN: "UNAUTHORIZED",
  RATE_LIMIT_EXCEEDED: "RATE_LIMITED",
  INVALID_REQUEST_BODY: "BAD_REQUEST",
  "entity.parse.failed": "BAD_REQUEST",
  "entity.too.large": "PAYLOAD_TOO_LARGE",
  "encoding.unsupported": "UNSUPPORTED_MEDIA_TYPE",
  "charset.unsupported": "UNSUPPORTED_MEDIA_TYPE",
  "request.aborted": "BAD_REQUEST",
  // an action with no node serving it: the service is down or between deployments
  SERVICE_NOT_FOUND: "SERVICE_UNAVAILABLE",
  SERVICE_NOT_AVAILABLE: "SERVICE_UNAVAILABLE",
  REQUEST_TIMEOUT: "REQUEST_TIMEOUT",
  REQUEST_REJECTED: "SERVICE_UNAVAILABLE",
  QUEUE_FULL: "SERVICE_UNAVAILABLE",
  CIRCUIT_BREAKER_OPEN: "SERVICE_UNAVAILABLE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
};

const SAFE_MESSAGES: Record<string, string> = {
  BAD_REQUEST: "malformed request body",
  PAYLOAD_TOO_LARGE: ERRORS.PAYLOAD_TOO_LARGE.message,
  UNSUPPORTED_MEDIA_TYPE: ERRORS.UNSUPPORTED_MEDIA_TYPE.message,
  RATE_LIMITED: ERRORS.RATE_LIMITED.message,
  NOT_FOUND: ERRORS.NOT_FOUND.message,
  UNAUTHORIZED: ERRORS.UNAUTHORIZED.message,
};

export interface MappedError {
  status: number;
  body: ErrorEnvelope;
  /** true when the original error must be logged (server side failures) */
  internal: boolean;
}

/** Validation details without echoing back values a client sent (they may be secrets). */
function validationFields(data: unknown): unknown {
  if (!Array.isArray(data)) return data ?? {};
  type Item = { field?: string; message?: string; type?: string; expected?: unknown; actual?: unknown };
  type Out = { field?: string; type?: string; message?: string; expected?: unknown };
  return data.flatMap((d: Item): Out[] => {
    // unknown fields: one entry per forbidden key, named
    if (d.type === "objectStrict" && typeof d.actual === "string") {
      return d.actual.split(",").map((k) => {
        const name = d.field ? `${d.field}.${k.trim()}` : k.trim();
        return { field: name, type: "unknownField", message: `unknown field '${name}'` };
      });
    }
    return [{ field: d.field, type: d.type, message: d.message, ...(d.expected !== undefined ? { expected: d.expected } : {}) }];
  });
}

export function mapError(err: unknown, traceId: string): MappedError {
  const e = (err ?? {}) as AnyError;
  const raw = typeof e.code === "number" ? e.code : (e.status ?? e.statusCode);
  let status = typeof raw === "number" && raw >= 400 && raw < 600 ? raw : 500;
  let type = e.type ? (TYPE_ALIASES[e.type] ?? e.type) : undefined;

  // moleculer-web's "route not found" and unknown actions: a plain 404
  if (e.name === "NotFoundError") type = "NOT_FOUND";
  // "a dependency is down or overloaded" is a 503/504 whatever status the library chose:
  // moleculer-web's ServiceUnavailableError has no type, moleculer's ServiceNotAvailableError is a
  // 404 and its QueueIsFullError (bulkhead) a 429
  if (e.name === "ServiceUnavailableError" && !type) type = "SERVICE_UNAVAILABLE";
  if (type === "SERVICE_UNAVAILABLE" || type === "REQUEST_TIMEOUT") status = ERRORS[type].status;
  if (e.name === "ValidationError" || type === "VALIDATION_ERROR") {
    status = 422;
    type = "VALIDATION_ERROR";
  }

  // readiness failures are built by the gateway itself and name only the failing parts
  if (type === "NOT_READY") {
    return { status: 503, body: { code: codeFor(type, 503), type, message: e.message ?? "not ready", data: e.data ?? {}, traceId }, internal: false };
  }
  if (status >= 500) {
    const known = type === "SERVICE_UNAVAILABLE" || type === "REQUEST_TIMEOUT";
    const t = known ? type! : "INTERNAL_ERROR";
    const def = ERRORS[t as keyof typeof ERRORS];
    return {
      status: known ? def.status : 500,
      // a dependency that is down or slow may answer the same request a moment later
      body: { code: def.code, type: t, message: def.message, data: known ? { retryable: true } : {}, traceId },
      internal: true,
    };
  }

  // Transport errors get our own wording; a 4xx with no stable type (a library error) is
  // generalised by status. Only typed business errors keep their message.
  const aliased = !!e.type && e.type in TYPE_ALIASES;
  const trusted = !!type && /^[A-Z][A-Z0-9_]*$/.test(type);
  if (!trusted) type = GENERIC_BY_STATUS[status] ?? "BAD_REQUEST";
  const t = type!;
  const generic = aliased || !trusted;
  const message =
    t === "VALIDATION_ERROR"
      ? "validation failed"
      : generic
        ? (SAFE_MESSAGES[t] ?? ERRORS[t as keyof typeof ERRORS]?.message ?? "bad request")
        : (e.message ?? "bad request");
  const data = t === "VALIDATION_ERROR" ? validationFields(e.data) : !generic && e.data && typeof e.data === "object" ? e.data : {};
  return { status, body: { code: codeFor(t, status), type: t, message, data, traceId }, internal: false };
}

const GENERIC_BY_STATUS: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
};

/**
 * A whole raw HTTP/1.1 response for a request Node's parser refused before any route saw it
 * (the server's `clientError` event): 431 for oversized headers, else 400, with the envelope.
 */
export function clientErrorResponse(parserCode: string | undefined, traceId: string): string {
  const t = parserCode === "HPE_HEADER_OVERFLOW" ? "HEADERS_TOO_LARGE" : "BAD_REQUEST";
  const def = ERRORS[t];
  const body = JSON.stringify({ code: def.code, type: t, message: t === "BAD_REQUEST" ? "malformed request" : def.message, data: {}, traceId });
  const reason = t === "HEADERS_TOO_LARGE" ? "Request Header Fields Too Large" : "Bad Request";
  return (
    `HTTP/1.1 ${def.status} ${reason}\r\n` +
    "Content-Type: application/json; charset=utf-8\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Request-Id: ${traceId}\r\n` +
    "X-Content-Type-Options: nosniff\r\n" +
    "Connection: close\r\n\r\n" +
    body
  );
}
