import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId, openSubscription, type Subscription } from "@whisper/core";
import { freePort } from "../support/net";
import { baseViaHttp as viaHttp, eventCases, numbered, prng, sendAll, structured, validEvent, type Case } from "../support/fuzz";

/**
 * Bad requests against a live http subscription: each must get a 4xx application/problem+json answer, none
 * may reach the handler, and the receiver must keep serving good requests afterwards. The bad events come
 * from tests/support/fuzz.ts (shared with the dashboard's events route); methods and paths are the
 * receiver's own.
 */

const MAX_BODY = 64 * 1024;

function generateCases(): Case[] {
  const random = prng(0xbad);
  const cases = eventCases({ maxBody: MAX_BODY });
  const binaryHeaders = () => ({ "ce-specversion": "1.0", "ce-id": "b-1", "ce-source": "/fuzz", "ce-type": "fuzz.binary", "content-type": "application/json" });
  // Methods and paths.
  // HEAD is left out: its answers carry no body by definition.
  for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS-X"]) {
    cases.push(viaHttp(`method ${method}`, { method, headers: binaryHeaders(), body: method === "GET" || method === "HEAD" ? undefined : "{}" }));
  }
  for (const path of ["/", "/elsewhere", "/%ZZ", "/fuzz-target/extra"]) {
    cases.push(viaHttp(`unknown path ${path}`, { path, ...structured(validEvent(random)) }));
  }
  return numbered(cases);
}

describe("http subscription under bad requests", () => {
  let port = 0;
  const path = `/fuzz-target`;
  let sub: Subscription;
  const reached: unknown[] = [];
  const cases = generateCases();

  beforeAll(async () => {
    port = await freePort();
    sub = await openSubscription(`http://127.0.0.1:${port}${path}?maxBodyBytes=${MAX_BODY}`, { name: `fuzz-${newId()}` });
    void sub.receive((m) => {
      reached.push(m.data);
      m.ack();
    });
  });
  afterAll(async () => {
    await sub?.close();
  });

  it(`generates at least 200 bad requests (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
  });

  it("answers each with a 4xx problem+json and hands none to the handler", async () => {
    expect(await sendAll(cases, port, path)).toEqual([]);
    expect(reached).toEqual([]);
  });

  it("still receives a good event afterwards", async () => {
    const answer = await viaHttp("good", structured({ specversion: "1.0", id: "good-1", source: "/fuzz", type: "ok", data: { fine: true } })).send(
      port,
      path,
    );
    expect(answer.status).toBe(204);
    expect(reached).toEqual([{ fine: true }]);
  });
});
