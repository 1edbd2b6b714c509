import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { loadConfig, loadSidecarConfig } from "@/server/config";
import { PROBLEM_CODES } from "@/server/errors";
import { ErrorCode } from "@whisper/core";
import { GRPC_CODES, grpcCodeOf } from "@/server/sidecar/status";

const DB = "postgresql://postgres@127.0.0.1:5432/test";
const TOKEN = "a-token-of-sixteen-chars";

describe("sidecar configuration", () => {
  it("is off in the dashboard unless WHISPER_GRPC_PORT is set; the host defaults to the dashboard's", () => {
    expect(loadConfig({ DATABASE_URL: DB }).grpc).toEqual({ port: undefined, host: "127.0.0.1" });
    expect(loadConfig({ DATABASE_URL: DB, WHISPER_GRPC_PORT: "50051", HOSTNAME: "::1" }).grpc).toEqual({ port: 50051, host: "::1" });
    expect(() => loadConfig({ DATABASE_URL: DB, WHISPER_GRPC_PORT: "grpc" })).toThrow(/WHISPER_GRPC_PORT: must be a TCP port/);
    expect(() => loadConfig({ DATABASE_URL: DB, WHISPER_GRPC_PORT: "70000" })).toThrow(/WHISPER_GRPC_PORT/);
  });

  it("refuses a non-loopback gRPC host without an admin token, as the dashboard's own host", () => {
    expect(() => loadConfig({ DATABASE_URL: DB, WHISPER_GRPC_PORT: "50051", WHISPER_GRPC_HOST: "0.0.0.0" })).toThrow(/refusing to serve on 0\.0\.0\.0 without WHISPER_ADMIN_TOKEN/);
    expect(loadConfig({ DATABASE_URL: DB, WHISPER_GRPC_PORT: "50051", WHISPER_GRPC_HOST: "0.0.0.0", WHISPER_ADMIN_TOKEN: TOKEN }).grpc.host).toBe("0.0.0.0");
  });

  it("runs alone without DATABASE_URL, needs WHISPER_GRPC_PORT, and listens on 127.0.0.1 by default", () => {
    const config = loadSidecarConfig({ WHISPER_GRPC_PORT: "50051", WHISPER_TOPICS: "orders:ordered" });
    expect(config).toMatchObject({ bus: "eventbus:", topics: [{ name: "orders", ordering: true }], tokenGenerated: true, grpc: { port: 50051, host: "127.0.0.1" } });
    expect(() => loadSidecarConfig({})).toThrow(/WHISPER_GRPC_PORT: is required/);
    expect(() => loadSidecarConfig({ WHISPER_GRPC_PORT: "1", WHISPER_GRPC_HOST: "0.0.0.0" })).toThrow(/set WHISPER_GRPC_HOST=127\.0\.0\.1/);
    expect(() => loadSidecarConfig({ WHISPER_GRPC_PORT: "1", WHISPER_TOPICS: "bad topic" })).toThrow(/WHISPER_TOPICS/);
  });
});

describe("sidecar status codes", () => {
  it("map every app code, and every core code the app table knows, to a gRPC status", () => {
    expect(Object.keys(GRPC_CODES).sort()).toEqual(Object.keys(PROBLEM_CODES).sort());
    expect(grpcCodeOf(ErrorCode.OrderingKeyPaused)).toBe(Code.FailedPrecondition);
    expect(grpcCodeOf(ErrorCode.MessageTooLarge)).toBe(Code.ResourceExhausted);
    expect(grpcCodeOf(ErrorCode.InvalidMessage)).toBe(Code.InvalidArgument);
    expect(grpcCodeOf(ErrorCode.Connection)).toBe(Code.Unavailable);
    expect(grpcCodeOf("ERR_PUBLISH_DEADLINE")).toBe(Code.DeadlineExceeded);
    expect(grpcCodeOf("not_found")).toBe(Code.NotFound);
    expect(grpcCodeOf("ERR_SOMETHING_NEW")).toBe(Code.Internal);
  });
});
