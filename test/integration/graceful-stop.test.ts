/**
 * README promises that a stopping node drains in-flight work (`tracking` in moleculer.config.ts):
 * a request already running when stop() is called still completes, and only then does the node
 * go away. The config once used the pre-0.15 option names, which moleculer silently ignores.
 */
import crypto from "node:crypto";
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { parseConfig } from "../../services/shared/config";
import { testEnv } from "../helpers/shop";

it("a node stopping mid-request finishes the request first", async () => {
  const id = crypto.randomBytes(4).toString("hex");
  const broker = new ServiceBroker({ ...brokerOptions(parseConfig({ ...process.env, ...testEnv("embedded", id), METRICS_PORT: "off" })), nodeID: `stop-${id}` });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  broker.createService({
    name: "slow",
    actions: {
      work: async () => {
        started();
        await gate;
        return "done";
      },
    },
  });
  await broker.start();
  const call = broker.call("slow.work");
  await running;
  let stopped = false;
  const stopping = broker.stop().then(() => (stopped = true));
  await new Promise((r) => setTimeout(r, 300)); // long enough for an undrained stop to finish
  expect(stopped).toBe(false); // still waiting for the in-flight request
  release();
  await expect(call).resolves.toBe("done");
  await stopping;
  expect(stopped).toBe(true);
});
