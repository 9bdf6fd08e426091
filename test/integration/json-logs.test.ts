/**
 * Cluster-shape logs are JSON lines (pino). moleculer's Pino wrapper passes `(msg, err)` to pino,
 * which drops the error, so a failing request was logged as `"   Request error!"` with no error,
 * request or action. Here a real gateway and a users node run as separate processes; the users
 * table goes away, a login fails with a 500, and the gateway's JSON line for it must say what
 * failed, where, and for which request.
 */
import mysql from "mysql2/promise";
import { ProcessCluster } from "../helpers/processes";
import { client, waitFor } from "../helpers/shop";

type Line = { level: number; msg: string; nodeID?: string; requestId?: string; action?: string; err?: Record<string, unknown> };

function jsonLines(text: string): Line[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);
}

let cluster: ProcessCluster;

beforeAll(async () => {
  cluster = await ProcessCluster.start([
    { name: "gateway", services: ["api"] },
    { name: "users", services: ["users"] },
  ]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

it("a request failing with a 500 is logged once, with the error, request id, action and nodes", async () => {
  const http = client(cluster);
  const login = { username: "nobody", password: "not-the-password-1" };

  // the caller's mistake is answered, not logged as an error
  const wrong = await http.post("auth/login", login, { headers: { "X-Request-Id": "json-log-4xx-1" } });
  expect(wrong.status).toBe(401);

  const db = await mysql.createConnection(cluster.databaseUrl);
  try {
    await db.query("RENAME TABLE users TO users_gone");
  } finally {
    await db.end();
  }
  const failed = await http.post("auth/login", login, { headers: { "X-Request-Id": "json-log-5xx-1" } });
  expect(failed.status).toBe(500);
  expect(failed.body).toMatchObject({ type: "INTERNAL_ERROR", traceId: "json-log-5xx-1" });

  const line = (await waitFor(() => jsonLines(cluster.log("gateway")).find((l) => l.requestId === "json-log-5xx-1"), { what: "the error line" }))!;
  expect(line).toMatchObject({
    level: 50,
    requestId: "json-log-5xx-1",
    action: "users.login",
    nodeID: expect.any(String),
    err: {
      type: "SequelizeDatabaseError",
      code: 500,
      message: expect.stringContaining("users"),
      stack: expect.stringContaining("\n"),
    },
  });
  // the error happened on the users node, and the line says so
  expect(line.err!.nodeID).toEqual(expect.any(String));
  expect(line.err!.nodeID).not.toBe(line.nodeID);

  const errors = jsonLines(cluster.log("gateway")).filter((l) => l.level >= 50);
  expect(errors).toHaveLength(1); // no second, detail-less "Request error!" line
  expect(errors.some((l) => l.requestId === "json-log-4xx-1")).toBe(false);
});
