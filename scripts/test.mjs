#!/usr/bin/env node
/**
 * `npm test`: checks the services the tests need, then runs every suite — lint, typecheck, unit, conformance,
 * integration, browser — and fails if any fails. Ends with one line `tests: N passed, N failed, N skipped`.
 *
 *   npm test                     all suites
 *   npm test -- unit conformance only those suites
 *   npm test -- --install        on Debian as root: apt-get install what is missing and start it
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const install = args.includes("--install");
const chosen = args.filter((a) => !a.startsWith("--"));
const reports = path.join(root, "test-results", "reports");

/** Services the suites talk to, with how to get them on Debian. */
const services = [
  {
    name: "PostgreSQL",
    host: "127.0.0.1",
    port: 5432,
    apt: "postgresql",
    start: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
  },
  {
    name: "NATS with JetStream",
    host: "127.0.0.1",
    port: 4222,
    apt: "nats-server",
    start:
      "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log",
  },
  {
    name: "Redis",
    host: "127.0.0.1",
    port: 6379,
    apt: "redis-server",
    start:
      'mkdir -p /var/lib/redis /var/log/redis && redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  },
  {
    name: "RabbitMQ",
    host: "127.0.0.1",
    port: 5672,
    apt: "rabbitmq-server",
    start: "rabbitmq-server -detached",
  },
  {
    name: "Mosquitto (MQTT)",
    host: "127.0.0.1",
    port: 1883,
    apt: "mosquitto",
    start: "mosquitto -d -c /etc/mosquitto/mosquitto.conf",
  },
];

/** Programs the suites run, with how to get them on Debian. */
const chromium = { name: "Chromium (browser tests)", path: "/usr/bin/chromium", apt: "chromium" };

const suites = [
  { name: "lint", cmd: ["npx", "eslint", "--max-warnings", "0", "."] },
  { name: "typecheck", cmd: ["npm", "run", "-s", "typecheck"] },
  ...["unit", "conformance", "integration"].map((project) => ({
    name: project,
    needs: project === "unit" ? [] : services,
    cmd: [
      "npx",
      "vitest",
      "run",
      "--project",
      project,
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${path.join(reports, `${project}.json`)}`,
    ],
    report: path.join(reports, `${project}.json`),
    kind: "vitest",
  })),
  {
    name: "browser",
    needs: services,
    programs: [chromium],
    cmd: ["npx", "playwright", "test"],
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: path.join(reports, "browser.json") },
    report: path.join(reports, "browser.json"),
    kind: "playwright",
  },
];

function reachable({ host, port }) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1500 });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(false));
  });
}

async function checkServices(needed, programs) {
  let missing = [];
  for (const s of needed) if (!(await reachable(s))) missing.push(s);
  let missingPrograms = programs.filter((p) => !existsSync(p.path));
  if (missingPrograms.length > 0 && install && process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    run("apt-get", ["update"], {});
    run("apt-get", ["install", "-y", ...missingPrograms.map((p) => p.apt)], {});
    missingPrograms = missingPrograms.filter((p) => !existsSync(p.path));
  }
  if (missing.length > 0 && install) {
    const isRoot = process.getuid?.() === 0;
    if (!isRoot || !existsSync("/usr/bin/apt-get")) {
      console.error("--install needs root on Debian (apt-get).");
    } else {
      const packages = missing.map((s) => s.apt).join(" ");
      run("apt-get", ["update"], {});
      run("apt-get", ["install", "-y", ...packages.split(" ")], {});
      for (const s of missing) run("bash", ["-c", s.start], {});
      await new Promise((r) => setTimeout(r, 3000));
      const still = [];
      for (const s of missing) if (!(await reachable(s))) still.push(s);
      missing = still;
    }
  }
  if (missing.length === 0 && missingPrograms.length === 0) return true;
  if (missing.length > 0) {
    console.error("\nThese services are needed by the tests and are not reachable:");
    for (const s of missing) {
      console.error(`  - ${s.name} on ${s.host}:${s.port}`);
      console.error(`      install (Debian): apt-get install -y ${s.apt}`);
      console.error(`      start:            ${s.start}`);
    }
  }
  if (missingPrograms.length > 0) {
    console.error("\nThese programs are needed by the tests and are not installed:");
    for (const p of missingPrograms) console.error(`  - ${p.name} at ${p.path}: apt-get install -y ${p.apt}`);
  }
  console.error("Or run `npm test -- --install` as root on Debian to install and start them.\n");
  return false;
}

function run(cmd, argv, env) {
  return spawnSync(cmd, argv, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } }).status ?? 1;
}

/** Test counts, and the names of the failed tests, from a suite's JSON report. */
function counts(suite) {
  if (!suite.report || !existsSync(suite.report)) return undefined;
  const report = JSON.parse(readFileSync(suite.report, "utf8"));
  if (suite.kind === "vitest") {
    const failures = (report.testResults ?? []).flatMap((file) =>
      (file.assertionResults ?? [])
        .filter((t) => t.status === "failed")
        .map((t) => `${path.relative(root, file.name)} › ${t.fullName ?? t.title}`),
    );
    return {
      passed: report.numPassedTests ?? 0,
      failed: report.numFailedTests ?? 0,
      skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
      failures,
    };
  }
  const stats = report.stats ?? {};
  return {
    passed: stats.expected ?? 0,
    failed: (stats.unexpected ?? 0) + (stats.flaky ?? 0),
    skipped: stats.skipped ?? 0,
    failures: playwrightFailures(report.suites ?? []),
  };
}

/** `file:line › title` of every Playwright test that did not end as expected (flaky ones included). */
function playwrightFailures(suites) {
  return suites.flatMap((s) => [
    ...(s.specs ?? [])
      .filter((spec) => (spec.tests ?? []).some((t) => t.status === "unexpected" || t.status === "flaky"))
      .map((spec) => `${spec.file}:${spec.line} › ${spec.title}`),
    ...playwrightFailures(s.suites ?? []),
  ]);
}

const selected = chosen.length > 0 ? suites.filter((s) => chosen.includes(s.name)) : suites;
if (selected.length === 0) {
  console.error(`unknown suite(s) ${chosen.join(", ")}; known: ${suites.map((s) => s.name).join(", ")}`);
  process.exit(2);
}
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const needed = [...new Set(selected.flatMap((s) => s.needs ?? []))];
const programs = [...new Set(selected.flatMap((s) => s.programs ?? []))];
if (!(await checkServices(needed, programs))) process.exit(1);

const summary = [];
const total = { passed: 0, failed: 0, skipped: 0 };
const failures = [];
for (const suite of selected) {
  console.log(`\n=== ${suite.name}: ${suite.cmd.join(" ")}`);
  const started = Date.now();
  const status = run(suite.cmd[0], suite.cmd.slice(1), { NEXT_TELEMETRY_DISABLED: "1", ...suite.env });
  const c = counts(suite);
  if (c) for (const k of Object.keys(total)) total[k] += c[k];
  if (c) failures.push(...c.failures);
  if (status !== 0 && (!c || c.failed === 0)) {
    // A step that failed without failing a test (lint, typecheck, a web server that did not start…).
    total.failed++;
    failures.push(`${suite.name}: exited with ${status} and no failed test (its output above says why)`);
  }
  summary.push({ suite: suite.name, ok: status === 0, seconds: Math.round((Date.now() - started) / 1000), ...c });
}

console.log("\n=== summary");
for (const s of summary) {
  const detail = s.passed !== undefined ? ` (${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped)` : "";
  console.log(`${s.ok ? "ok  " : "FAIL"} ${s.suite.padEnd(12)} ${String(s.seconds).padStart(4)} s${detail}`);
}
for (const name of failures) console.log(`  failed: ${name}`);
console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(summary.every((s) => s.ok) ? 0 : 1);
