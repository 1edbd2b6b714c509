import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema, ensureBuilt, startApp, type TestSchema } from "../support/app";
import { freePort } from "../support/net";

/**
 * A misconfigured dashboard never serves: `next start` of the production build prints what to fix and
 * exits with status 1 (the error reaches startApp() as "exited (1) before it was ready" with the output).
 */

let schema: TestSchema;

beforeAll(async () => {
  await ensureBuilt();
  schema = await createSchema("api_start");
});

afterAll(async () => {
  await schema?.drop();
});

describe("start-up errors", () => {
  it("names every invalid environment variable", async () => {
    await expect(
      startApp({ databaseUrl: "mysql://nope", topics: "fine,not fine,x:sorted", env: { PORT: "70000" } }),
    ).rejects.toThrow(/exited \(1\)[\s\S]*invalid configuration[\s\S]*DATABASE_URL[\s\S]*WHISPER_TOPICS: "not fine"[\s\S]*"x:sorted"/);
  });

  it("says the database is unreachable", async () => {
    const port = await freePort();
    await expect(startApp({ databaseUrl: `postgresql://postgres@127.0.0.1:${port}/test` })).rejects.toThrow(
      // The user info is redacted whole (server/redact.ts): a user name can be the secret (nats://TOKEN@host).
      new RegExp(`exited \\(1\\)[\\s\\S]*cannot reach the database at postgresql://\\*\\*\\*@127\\.0\\.0\\.1:${port}/test \\(DATABASE_URL\\)`),
    );
  });

  it("says the broker is unreachable", async () => {
    const port = await freePort();
    await expect(
      startApp({ databaseUrl: schema.databaseUrl, topics: "t1", env: { WHISPER_BUS: `nats://127.0.0.1:${port}` } }),
    ).rejects.toThrow(/exited \(1\)[\s\S]*cannot open topic t1 on the broker nats:\/\/127\.0\.0\.1:\d+ \(WHISPER_BUS\)/);
  });

  it("names the known schemes for an unknown bus", async () => {
    await expect(
      startApp({ databaseUrl: schema.databaseUrl, topics: "t1", env: { WHISPER_BUS: "carrier-pigeon://coop" } }),
    ).rejects.toThrow(/exited \(1\)[\s\S]*no whisper driver for scheme "carrier-pigeon:"; registered schemes: .*eventbus:/);
  });
});
