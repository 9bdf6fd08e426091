import { TRANSITIONS, outcomeOfLostUpdate } from "../../services/inventory/domain/reservation-state";

describe("inventory: reservation state machine", () => {
  it("release and commit both start from OPEN, return from COMMITTED", () => {
    expect(TRANSITIONS.release).toEqual({ from: "OPEN", to: "RELEASED" });
    expect(TRANSITIONS.commit).toEqual({ from: "OPEN", to: "COMMITTED" });
    expect(TRANSITIONS.return).toEqual({ from: "COMMITTED", to: "RETURNED" });
  });

  it("repeating a transition that already happened is idempotent", () => {
    expect(outcomeOfLostUpdate("release", "RELEASED")).toBe("done");
    expect(outcomeOfLostUpdate("commit", "COMMITTED")).toBe("done");
    expect(outcomeOfLostUpdate("return", "RETURNED")).toBe("done");
    // a late duplicate commit after the refund returned the stock is still "already committed"
    expect(outcomeOfLostUpdate("commit", "RETURNED")).toBe("done");
  });

  it("a reservation is never both released and committed", () => {
    expect(outcomeOfLostUpdate("release", "COMMITTED")).toBe("conflict");
    expect(outcomeOfLostUpdate("commit", "RELEASED")).toBe("conflict");
    expect(outcomeOfLostUpdate("release", "RETURNED")).toBe("conflict");
    expect(outcomeOfLostUpdate("return", "RELEASED")).toBe("conflict");
    expect(outcomeOfLostUpdate("return", "OPEN")).toBe("conflict");
  });
});
