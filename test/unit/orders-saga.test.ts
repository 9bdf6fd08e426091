import { SagaStep, runSaga } from "../../services/shared/saga";

interface State {
  log: string[];
}

const step = (name: string, opts: { fail?: boolean; failCompensation?: boolean } = {}): SagaStep<State> => ({
  name,
  async run(s) {
    if (opts.fail) throw new Error(`${name} failed`);
    s.log.push(`run ${name}`);
  },
  async compensate(s) {
    if (opts.failCompensation) throw new Error(`undo ${name} failed`);
    s.log.push(`undo ${name}`);
  },
});

describe("saga runner", () => {
  it("runs every step in order when all succeed, compensating nothing", async () => {
    const s = await runSaga([step("price"), step("reserve"), step("write")], { log: [] });
    expect(s.log).toEqual(["run price", "run reserve", "run write"]);
  });

  it("compensates the completed steps in reverse order and rethrows the original error", async () => {
    const s: State = { log: [] };
    await expect(runSaga([step("a"), step("reserve"), step("write", { fail: true }), step("never")], s)).rejects.toThrow("write failed");
    expect(s.log).toEqual(["run a", "run reserve", "undo reserve", "undo a"]);
  });

  it("never compensates the step that failed or those after it", async () => {
    const s: State = { log: [] };
    await expect(runSaga([step("reserve", { fail: true }), step("write")], s)).rejects.toThrow("reserve failed");
    expect(s.log).toEqual([]);
  });

  it("a failing compensation is reported, does not hide the cause, and the rest still run", async () => {
    const s: State = { log: [] };
    const reported: string[] = [];
    await expect(
      runSaga([step("a"), step("b", { failCompensation: true }), step("c", { fail: true })], s, {
        onCompensationError: (name, err, cause) => reported.push(`${name}: ${(err as Error).message} (cause: ${(cause as Error).message})`),
      }),
    ).rejects.toThrow("c failed");
    expect(s.log).toEqual(["run a", "run b", "undo a"]);
    expect(reported).toEqual(["b: undo b failed (cause: c failed)"]);
  });

  it("steps without a compensation are skipped when unwinding", async () => {
    const s: State = { log: [] };
    const plain: SagaStep<State> = { name: "read", run: async (st) => void st.log.push("run read") };
    await expect(runSaga([step("reserve"), plain, step("write", { fail: true })], s)).rejects.toThrow();
    expect(s.log).toEqual(["run reserve", "run read", "undo reserve"]);
  });
});
