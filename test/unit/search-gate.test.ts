import { ServiceBroker } from "moleculer";
import { SEARCHES_ACTIVE, SEARCHES_QUEUED, searchGate } from "../../services/catalog/search-gate";

const gauge = (b: ServiceBroker, name: string) => (b.metrics.getMetric(name) as unknown as { values: Map<string, { value: number }> }).values.get("")?.value;

describe("catalog search gate", () => {
  it("runs at most `limit` at once, starts the rest in arrival order, and shows both counts", async () => {
    const broker = new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [] } });
    const gate = searchGate(2, broker);
    const started: number[] = [];
    const release: (() => void)[] = [];
    let running = 0;
    let most = 0;
    const results = Array.from({ length: 7 }, (_, i) =>
      gate(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await new Promise<void>((r) => (release[i] = r));
        running--;
        return i * 10;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(gauge(broker, SEARCHES_ACTIVE)).toBe(2);
    expect(gauge(broker, SEARCHES_QUEUED)).toBe(5);
    // finish out of order: the next in line starts each time one ends
    release[1]();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    expect(gauge(broker, SEARCHES_QUEUED)).toBe(4);
    for (let i = 0; i < 7; i++) {
      release[i]?.();
      await new Promise((r) => setImmediate(r));
    }
    for (let i = 0; i < 7; i++) release[i]?.();
    expect(await Promise.all(results)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(2);
    expect(gauge(broker, SEARCHES_ACTIVE)).toBe(0);
    expect(gauge(broker, SEARCHES_QUEUED)).toBe(0);
  });

  it("a failed query frees its place and fails only its own caller", async () => {
    const gate = searchGate(1);
    const a = gate(async () => {
      throw new Error("boom");
    });
    const b = gate(async () => "next");
    await expect(a).rejects.toThrow("boom");
    await expect(b).resolves.toBe("next");
  });
});
