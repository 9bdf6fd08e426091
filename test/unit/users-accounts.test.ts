import { containsPattern, emailProblem, parseRefreshToken } from "../../services/users/domain/accounts";

describe("account rules", () => {
  it("LIKE patterns take %, _ and the escape character literally", () => {
    expect(containsPattern("a_b")).toBe("%a!_b%");
    expect(containsPattern("50%")).toBe("%50!%%");
    expect(containsPattern("hey!")).toBe("%hey!!%");
    expect(containsPattern("back\\slash")).toBe("%back\\slash%");
  });

  it("emails with a quoted local part are refused; ordinary ones pass", () => {
    expect(emailProblem('"<script>"@x.com')).not.toBeNull();
    expect(emailProblem("first.last+tag@mail.example.com")).toBeNull();
  });

  it("refresh tokens are <uuid>.<secret>", () => {
    const id = "0b5cbb9e-4c77-4d6b-9e4f-6f0b1f6a9b12";
    expect(parseRefreshToken(`${id}.${"A".repeat(43)}`)).toEqual({ id, secret: "A".repeat(43) });
    expect(parseRefreshToken(`${id}.short`)).toBeNull();
    expect(parseRefreshToken("garbage")).toBeNull();
  });
});
