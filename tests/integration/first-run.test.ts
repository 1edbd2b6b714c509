import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, eventually, ROOT } from "../support/app";
import { interruptDashboard, killDashboard, startEmbeddedDashboard, stopDashboard, type StartedDashboard } from "../support/embedded-start";
import { freePort } from "../support/net";

/**
 * The zero-setup path: `npm start` (scripts/start.mjs) with no DATABASE_URL and no WHISPER_BUS, on an empty
 * data directory, uses the embedded PostgreSQL and the in-process bus; what it recorded survives a restart.
 */

describe("first run with nothing configured", () => {
  let dataDir: string;
  let running: StartedDashboard | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(path.join(tmpdir(), "whisper-first-run-"));
  });

  afterAll(async () => {
    await stopDashboard(running).catch(() => {});
    killDashboard(running);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("starts on the embedded database and the in-process bus, keeps history across a restart", { timeout: 360_000 }, async () => {
    const port = await freePort();
    running = await startEmbeddedDashboard(dataDir, port);
    const banner = running.output();
    expect(banner).toMatch(/embedded PostgreSQL 18, data in /);
    expect(banner).toMatch(/message bus\s+eventbus:/);
    expect(existsSync(path.join(dataDir, "postgres"))).toBe(true);
    const token = readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
    expect(banner).toContain(token);
    const auth = { authorization: `Bearer ${token}` };

    const health = await (await fetch(`${running.url}/api/health`)).json();
    expect(health).toMatchObject({ status: "ok" });

    const created = await fetch(`${running.url}/api/topics`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "first.run", ordering: true }),
    });
    expect(created.status).toBe(201);
    const published = await fetch(`${running.url}/api/topics/first.run/events`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/cloudevents+json" },
      body: JSON.stringify({ specversion: "1.0", id: "first-run-1", source: "/test", type: "first.run", data: { hello: "embedded" } }),
    });
    expect(published.status).toBe(202);
    const detail = await eventually(async () => {
      const response = await fetch(`${running!.url}/api/messages/first-run-1`, { headers: auth });
      return response.ok ? response.json() : undefined;
    }, "the message in history");
    expect(detail).toMatchObject({ id: "first-run-1", topic: "first.run", data: { encoding: "json" } });

    // Ctrl-C reaches the whole process group; the database is stopped after the dashboard, so nothing the
    // dashboard holds breaks while it closes (no "terminating connection due to administrator command").
    const beforeStop = running.output().length;
    await interruptDashboard(running);
    expect(running.output().slice(beforeStop)).not.toMatch(/terminating connection|control plane|error/i);
    expect(existsSync(path.join(dataDir, "postgres.lock"))).toBe(false);

    running = await startEmbeddedDashboard(dataDir, port);
    const again = await fetch(`${running.url}/api/messages/first-run-1`, { headers: auth });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: "first-run-1", topic: "first.run" });
    const topics = await (await fetch(`${running.url}/api/topics`, { headers: auth })).json();
    expect(topics.topics.map((t: { name: string }) => t.name)).toContain("first.run");
  });

  it("refuses a second dashboard on the same data directory instead of corrupting it", async () => {
    expect(running?.child.exitCode).toBeNull();
    const env: NodeJS.ProcessEnv = { ...process.env };
    const second = spawn(process.execPath, [path.join(ROOT, "scripts/embedded-postgres.mjs"), path.join(dataDir, "postgres")], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    second.stderr!.on("data", (chunk) => (output += chunk));
    const code = await new Promise((resolve) => second.once("exit", resolve));
    expect(code).toBe(3);
    expect(output).toMatch(/is in use by process \d+/);
  });

  it("takes over after a kill -9: a stale lock and a postmaster left running are handled, the data is kept", async () => {
    await stopDashboard(running);
    running = undefined;
    const pgdata = path.join(dataDir, "postgres");
    const start = () => {
      const child = spawn(process.execPath, [path.join(ROOT, "scripts/embedded-postgres.mjs"), pgdata], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout!.on("data", (chunk) => (output += chunk));
      child.stderr!.on("data", (chunk) => (output += chunk));
      const ready = eventually(async () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${output}`);
        const line = output.split("\n").find((l) => l.startsWith('{"ready":true'));
        return line ? (JSON.parse(line) as { url: string }) : undefined;
      }, "the embedded database ready", 60_000);
      return { child, ready, output: () => output };
    };
    const first = start();
    await first.ready;
    const postmaster = Number(readFileSync(path.join(pgdata, "postmaster.pid"), "utf8").split("\n")[0]);
    first.child.kill("SIGKILL"); // the wrapper dies; its lock file and the PostgreSQL server are left behind
    await new Promise((resolve) => first.child.once("exit", resolve));
    expect(existsSync(path.join(dataDir, "postgres.lock"))).toBe(true);
    expect(() => process.kill(postmaster, 0)).not.toThrow();

    const second = start();
    const { url } = await second.ready;
    expect(second.output()).toMatch(/left by an earlier run \(pid \d+\) still holds/);
    expect(() => process.kill(postmaster, 0)).toThrow();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("select id from messages where id = 'first-run-1'");
      expect(rows).toHaveLength(1);
    } finally {
      await client.end();
    }
    const exited = new Promise((resolve) => second.child.once("exit", resolve));
    second.child.kill("SIGTERM");
    await exited;
    expect(existsSync(path.join(dataDir, "postgres.lock"))).toBe(false);
  });
});
