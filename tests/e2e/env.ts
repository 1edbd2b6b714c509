// The environment of the browser tests, shared by playwright.config.ts, the web-server script's caller and
// the specs. One fixed port (override with E2E_PORT) and one Postgres schema that the server script resets.

export const E2E_PORT = Number(process.env.E2E_PORT ?? 3917);
export const E2E_BASE_URL = `http://127.0.0.1:${E2E_PORT}`;
export const E2E_TOKEN = process.env.E2E_TOKEN ?? "e2e-admin-token-0123456789";
/** WHISPER_VIEWER_TOKEN of the server under test: read-only access. */
export const E2E_VIEWER_TOKEN = process.env.E2E_VIEWER_TOKEN ?? "e2e-viewer-token-0123456789";
export const E2E_SCHEMA = process.env.E2E_SCHEMA ?? "e2e_dashboard";
export const E2E_DATABASE_URL =
  process.env.E2E_DATABASE_URL ?? `postgresql://postgres@127.0.0.1:5432/test?schema=${E2E_SCHEMA}`;

/** Topics the server manages from the start (WHISPER_TOPICS): one plain, one ordered. */
export const E2E_START_TOPICS = ["e2e-demo", "e2e-orders"];

/** Env of the dashboard under test. */
export function serverEnv(): Record<string, string> {
  return {
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    NEXT_DIST_DIR: ".next-e2e",
    PORT: String(E2E_PORT),
    HOSTNAME: "127.0.0.1",
    WHISPER_BUS: "eventbus:",
    DATABASE_URL: E2E_DATABASE_URL,
    WHISPER_ADMIN_TOKEN: E2E_TOKEN,
    WHISPER_VIEWER_TOKEN: E2E_VIEWER_TOKEN,
    WHISPER_TOPICS: "e2e-demo,e2e-orders:ordered",
    E2E_SCHEMA,
  };
}
