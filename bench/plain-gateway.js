// Reference point: moleculer-web with one alias and nothing else (no auth, metrics, envelope,
// resilience middlewares). What the framework itself costs per request on this machine.
const { ServiceBroker } = require("moleculer");
const ApiGateway = require("moleculer-web");
const broker = new ServiceBroker({ logger: false, metrics: false, tracing: false });
broker.createService({
  name: "api",
  mixins: [ApiGateway],
  settings: { port: Number(process.env.PORT), ip: "127.0.0.1", routes: [{ path: "/", aliases: { "GET health": "api.health", "GET me": "api.me" } }], logRequest: null, logResponse: null },
  actions: {
    health: () => "ok",
    me: () => ({ code: 0, message: "ok", data: { id: 1, username: "bench", roles: ["customer"] }, traceId: "x" }),
  },
});
broker.start();
