/**
 * Several nodes starting at the same moment all subscribe to one durable JetStream consumer.
 * Before RacingSafeNatsAdapter, the nodes that lost the race to create it failed to start with
 * "consumer name already in use" (seen as a flaky two-orders-node expiry test).
 */
import crypto from "node:crypto";
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { parseConfig } from "../../services/shared/config";
import { cleanupNamespace, testEnv, waitFor } from "../helpers/shop";

describe("channel consumers on nodes that start together (NATS JetStream)", () => {
  const brokers: ServiceBroker[] = [];
  afterAll(async () => {
    for (const b of brokers) await b.stop().catch(() => undefined);
  });

  it("every node starts and each message is handled once by the group", async () => {
    for (let round = 0; round < 3; round++) {
      const id = crypto.randomBytes(4).toString("hex");
      const env = { ...process.env, ...testEnv("cluster", id), METRICS_PORT: "off" };
      const seen: string[] = [];
      const nodes = [0, 1, 2, 3].map((i) => {
        const b = new ServiceBroker({ ...brokerOptions(parseConfig(env)), nodeID: `race-${id}-${i}` });
        b.createService({
          name: "racer",
          channels: {
            "race.happened": {
              group: "racers",
              handler(payload: { n: string }) {
                seen.push(payload.n);
              },
            },
          },
        } as never);
        brokers.push(b);
        return b;
      });
      await Promise.all(nodes.map((b) => b.start()));
      const send = nodes[0] as unknown as { sendToChannel(c: string, p: unknown): Promise<void> };
      for (let n = 0; n < 10; n++) await send.sendToChannel("race.happened", { n: `${round}-${n}` });
      await waitFor(() => seen.length >= 10, { what: "10 deliveries" });
      expect([...seen].sort()).toEqual(Array.from({ length: 10 }, (_, n) => `${round}-${n}`).sort());
      for (const b of nodes) await b.stop();
      await cleanupNamespace(testEnv("cluster", id));
    }
  });
});
