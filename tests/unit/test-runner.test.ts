import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
/** A network namespace of our own has a loopback with nothing listening: the services look missing. */
const canUnshare = spawnSync("unshare", ["-n", "true"]).status === 0;

describe("npm test on a machine without the services", () => {
  it.skipIf(!canUnshare)(
    `says which services are missing and how to get them${canUnshare ? "" : " — skipped: needs root to make a network namespace (unshare -n)"}`,
    () => {
      const result = spawnSync(
        "unshare",
        ["-n", "bash", "-c", `ip link set lo up; exec ${process.execPath} scripts/test.mjs integration`],
        { cwd: root, encoding: "utf8", timeout: 30_000 },
      );
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("PostgreSQL on 127.0.0.1:5432");
      expect(result.stderr).toContain("NATS with JetStream on 127.0.0.1:4222");
      expect(result.stderr).toContain("apt-get install -y postgresql");
      expect(result.stderr).toContain("apt-get install -y nats-server");
      expect(result.stderr).toContain("npm test -- --install");
    },
  );
});
