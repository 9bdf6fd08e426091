import { CLIENT_FACTOR, clientVerdict, subjectVerdict } from "../../services/users/domain/login-throttle";

describe("login throttle rule", () => {
  const limit = 3;

  it("refuses a client once its failures on any subjects reach limit × CLIENT_FACTOR", () => {
    expect(clientVerdict(limit * CLIENT_FACTOR - 1, limit)).toBe("allowed");
    expect(clientVerdict(limit * CLIENT_FACTOR, limit)).toBe("client-limited");
  });

  it("gives one client at most `limit` attempts at one subject", () => {
    for (let attempt = 1; attempt <= limit; attempt++) expect(subjectVerdict(attempt, 0, limit)).toBe("allowed");
    expect(subjectVerdict(limit + 1, 0, limit)).toBe("subject-limited");
  });

  it("under attack, a client that has not tried the subject yet may; one that has, waits", () => {
    expect(subjectVerdict(1, 100, limit)).toBe("allowed");
    expect(subjectVerdict(2, limit, limit)).toBe("subject-limited");
    expect(subjectVerdict(2, limit - 1, limit)).toBe("allowed");
  });
});
