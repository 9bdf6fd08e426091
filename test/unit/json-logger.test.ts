/**
 * The JSON logger keeps what our own code passes after the message. moleculer's Pino wrapper
 * called `pino.error("…", err)`, which logs "…" and drops the error: every
 * `logger.error("checkout …: compensation failed", err)` in the services lost its error in the
 * cluster shape. Lines logged while an action runs also name the request and the action.
 */
import { Errors, ServiceBroker } from "moleculer";
import { LogScopeMiddleware, MallPinoLogger } from "../../services/shared/logging";
import { bizError } from "../../services/shared/errors";

type Line = Record<string, any>;

let broker: ServiceBroker;
const lines: Line[] = [];

beforeAll(async () => {
  broker = new ServiceBroker({
    nodeID: "log-node",
    logger: new MallPinoLogger({
      level: "info",
      pino: { options: { base: null }, destination: { write: (s: string) => void lines.push(JSON.parse(s)) } } as never,
    }),
    middlewares: [LogScopeMiddleware],
  });
  broker.createService({
    name: "shop",
    actions: {
      checkout(this: { logger: ServiceBroker["logger"] }) {
        const boom = new Error("deadlock found");
        this.logger.error("checkout ORD1: compensation release failed", boom);
        this.logger.warn("expiry sweep failed; next tick retries", "connection refused");
        this.logger.warn("coupon refused", bizError("CONFLICT", "coupon already used"));
        this.logger.info({ orderNo: "ORD1" }, "order placed");
        return "ok";
      },
    },
  });
  await broker.start();
});

afterAll(() => broker.stop());

it("keeps errors, extra words and pino-style fields, and names the request, action and node", async () => {
  await broker.call("shop.checkout", {}, { requestID: "req-123" });
  const ours = lines.filter((l) => l.action === "shop.checkout");

  expect(ours.find((l) => l.msg === "checkout ORD1: compensation release failed")).toMatchObject({
    level: 50,
    nodeID: "log-node",
    requestId: "req-123",
    err: { type: "Error", code: 500, message: "deadlock found", stack: expect.stringContaining("deadlock found\n") },
  });
  expect(ours.find((l) => l.level === 40 && l.msg.startsWith("expiry sweep"))?.msg).toBe("expiry sweep failed; next tick retries connection refused");

  // a client error (4xx) is the caller's mistake: no stack
  const refused = ours.find((l) => l.msg === "coupon refused");
  expect(refused?.err).toEqual({ type: "CONFLICT", name: "MoleculerClientError", message: "coupon already used", code: 409, data: {} });

  expect(ours.find((l) => l.msg === "order placed")).toMatchObject({ level: 30, orderNo: "ORD1", requestId: "req-123" });
});

it("logs an error passed alone, with its message as the line's message", () => {
  broker.logger.error(new Errors.MoleculerServerError("adapter gone", 503, "SERVICE_UNAVAILABLE"));
  expect(lines[lines.length - 1]).toMatchObject({ msg: "adapter gone", err: { type: "SERVICE_UNAVAILABLE", code: 503, stack: expect.any(String) } });
});
