/**
 * JSON logs (LOG_FORMAT=json) that keep what moleculer's Pino wrapper drops. The wrapper hands
 * every argument to pino as `pino.error(msg, err, …)`, and pino treats the extra arguments as
 * printf values for a message with no placeholders: `logger.error("checkout failed", err)` — in
 * our code, in moleculer's and in moleculer-web's — loses the error. Here the arguments become
 * one pino object: words join into `msg`, the error goes to `err` (type, code, message, data,
 * the node it came from, and the stack unless it is a client error), other objects to `data`, and
 * the request id and action being handled (`LogScopeMiddleware`) are added to every line.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Loggers } from "moleculer";
import type { Context, Middleware } from "moleculer";

type LoggerBindings = Parameters<InstanceType<typeof Loggers.Pino>["getLogHandler"]>[0];

export interface LogScope {
  requestId?: string;
  action?: string;
  event?: string;
}

const scope = new AsyncLocalStorage<LogScope>();

/** Run `fn` so that whatever it logs names `fields` (the gateway logs outside any action). */
export function withLogScope<T>(fields: LogScope, fn: () => T): T {
  return scope.run(fields, fn);
}

/** Every local action and event handler runs in a log scope naming its request and itself. */
export const LogScopeMiddleware = {
  name: "LogScope",
  localAction(next: (ctx: Context) => unknown, action: { name: string }) {
    return (ctx: Context) => scope.run({ requestId: ctx.requestID ?? undefined, action: action.name }, () => next(ctx));
  },
  localEvent(next: (ctx: Context) => unknown, event: { name: string }) {
    return (ctx: Context) => scope.run({ requestId: ctx.requestID ?? undefined, event: event.name }, () => next(ctx));
  },
} as unknown as Middleware;

type ErrorLike = Error & { type?: string; code?: unknown; data?: unknown; nodeID?: string; retryable?: boolean; cause?: unknown };

function isErrorLike(v: unknown): v is ErrorLike {
  if (v instanceof Error) return true;
  const o = v as { message?: unknown; stack?: unknown } | null;
  return !!o && typeof o === "object" && typeof o.message === "string" && typeof o.stack === "string";
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!v || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A client error (4xx) is the caller's mistake: its stack says nothing about the server. */
function isClientError(e: ErrorLike): boolean {
  return typeof e.code === "number" && e.code >= 400 && e.code < 500;
}

export function serializeError(e: ErrorLike, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: e.type ?? e.name ?? "Error",
    name: e.name,
    message: e.message,
  };
  // no code is a server error: moleculer and the gateway answer it with a 500
  out.code = e.code ?? 500;
  if (e.data !== undefined && e.data !== null) out.data = e.data;
  // where a remote error was thrown; the line's own nodeID is the node that logs it
  if (e.nodeID) out.nodeID = e.nodeID;
  if (e.retryable) out.retryable = true;
  if (!isClientError(e) && e.stack) out.stack = e.stack;
  if (depth < 3 && isErrorLike(e.cause)) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

/**
 * moleculer's `(…args)` → pino's `(fields, msg)`. A plain object first is taken as pino-style
 * fields (`logger.error({ err, orderNo }, "…")`); after that, errors go to `err`, other objects
 * to `data`, and everything else forms the message.
 */
export function toPinoArgs(args: unknown[], fields: LogScope = {}): [Record<string, unknown>, string] {
  const out: Record<string, unknown> = { ...fields };
  const words: string[] = [];
  const data: unknown[] = [];
  let rest = args;
  if (isPlainObject(args[0])) {
    Object.assign(out, args[0]);
    rest = args.slice(1);
  }
  for (const a of rest) {
    if (isErrorLike(a)) {
      if (out.err === undefined) out.err = a;
      else data.push(serializeError(a));
    } else if (a !== null && typeof a === "object") data.push(a);
    else if (a !== undefined) words.push(String(a));
  }
  if (isErrorLike(out.err)) out.err = serializeError(out.err);
  if (data.length) out.data = data.length === 1 ? data[0] : data;
  let msg = words.join(" ").trim();
  if (!msg && out.err) msg = String((out.err as { message?: unknown }).message ?? "");
  return [out, msg];
}

type PinoChild = Record<string, (obj: object, msg: string) => void> & { isLevelEnabled(level: string): boolean };

/** moleculer's Pino logger with every argument kept (see the top of this file). */
export class MallPinoLogger extends Loggers.Pino {
  override getLogHandler(bindings: LoggerBindings) {
    const level = bindings ? this.getLogLevel(bindings.mod) : null;
    if (!level) return null;
    const pino = (this as unknown as { pino: { child(b: object, o: object): PinoChild } }).pino;
    // pino's own `err` serializer would take our serialised error for an Error and rename its type
    const logger = pino.child(bindings, { level, serializers: { err: (e: unknown) => e } });
    return (type: string, args: unknown[]) => {
      if (!logger.isLevelEnabled(type)) return;
      const [obj, msg] = toPinoArgs(args, scope.getStore());
      logger[type](obj, msg);
    };
  }
}
