import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { ROOT } from "./app";

/**
 * A gRPC client of the sidecar built with other libraries than the server (which is Connect with
 * protobuf-es): @grpc/grpc-js with @grpc/proto-loader reading the .proto files of proto/ at run time, and
 * protobufjs decoding the google.rpc.Status details of `grpc-status-details-bin`. So the tests check the wire
 * format and the proto files, not only the generated code.
 */

const PROTO_DIR = path.join(ROOT, "proto");
const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] };

/** JSON-ish shapes of the messages as proto-loader decodes them (camelCase fields, oneofs named by `kind`/`data`/`attr`). */
export type AttributeValue = { ceString?: string; ceInteger?: number; ceBoolean?: boolean; ceBytes?: Buffer; ceUri?: string; ceUriRef?: string; ceTimestamp?: { seconds: string | number; nanos: number }; attr?: string };
export interface WireEvent {
  id: string;
  source: string;
  specVersion: string;
  type: string;
  attributes?: Record<string, AttributeValue>;
  binaryData?: Buffer;
  textData?: string;
  protoData?: { typeUrl: string; value: Buffer };
  data?: string;
}
export interface PublishOutcome {
  id: string;
  status: string;
  error: { code: string; grpcCode: number; message: string } | null;
}
export interface Delivery {
  deliveryId: string;
  event: WireEvent;
  deliveryAttempt: number;
}

type Unary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void;
type PubSubClient = grpc.Client & Record<"Publish" | "PublishBatch" | "Resume" | "PausedKeys" | "ListTopics", Unary> & {
  Subscribe(metadata: grpc.Metadata): grpc.ClientDuplexStream<unknown, { subscribed?: object; delivery?: Delivery; kind: string }>;
};
type ReflectionClient = grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, Record<string, unknown>> };

let loaded: { PubSubService: grpc.ServiceClientConstructor; Reflection: grpc.ServiceClientConstructor } | undefined;
function definitions() {
  if (!loaded) {
    const pkg = grpc.loadPackageDefinition(
      protoLoader.loadSync(["whisper/v1/sidecar.proto", "grpc/reflection/v1/reflection.proto"], LOADER_OPTIONS),
    ) as unknown as {
      whisper: { v1: { PubSubService: grpc.ServiceClientConstructor } };
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    loaded = { PubSubService: pkg.whisper.v1.PubSubService, Reflection: pkg.grpc.reflection.v1.ServerReflection };
  }
  return loaded;
}

let statusRoot: protobuf.Root | undefined;
/** The google.rpc.Status of a failed call, its details decoded by type (ErrorInfo, BadRequest, PreconditionFailure). */
export function statusDetails(error: grpc.ServiceError): { code: number; message: string; details: Record<string, Record<string, unknown>> } {
  statusRoot ??= protobuf.loadSync([path.join(PROTO_DIR, "google/rpc/status.proto"), path.join(PROTO_DIR, "google/rpc/error_details.proto")]);
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  if (!(raw instanceof Buffer)) return { code: error.code, message: error.details, details: {} };
  const status = statusRoot.lookupType("google.rpc.Status").decode(raw) as unknown as { code: number; message: string; details: Array<{ type_url: string; typeUrl?: string; value: Uint8Array }> };
  const details: Record<string, Record<string, unknown>> = {};
  for (const any of status.details) {
    const typeName = (any.typeUrl ?? any.type_url).split("/").pop()!;
    const type = statusRoot.lookupType(typeName);
    details[typeName] = type.toObject(type.decode(any.value)) as Record<string, unknown>;
  }
  return { code: status.code, message: status.message, details };
}

export class SidecarClient {
  readonly client: PubSubClient;
  readonly reflection: ReflectionClient;

  constructor(
    readonly address: string,
    readonly token: string | undefined,
  ) {
    const { PubSubService, Reflection } = definitions();
    this.client = new PubSubService(address, grpc.credentials.createInsecure()) as unknown as PubSubClient;
    this.reflection = new Reflection(address, grpc.credentials.createInsecure()) as unknown as ReflectionClient;
  }

  metadata(token = this.token): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
    return metadata;
  }

  /** Calls a unary method; resolves with the response or rejects with the grpc-js ServiceError. */
  call<T>(method: "Publish" | "PublishBatch" | "Resume" | "PausedKeys" | "ListTopics", request: unknown, metadata = this.metadata()): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client[method](request, metadata, { deadline: Date.now() + 30_000 }, (error, response) => (error ? reject(error) : resolve(response as T)));
    });
  }

  /** Calls and expects a failure; the ServiceError. */
  async fail(method: "Publish" | "PublishBatch" | "Resume" | "PausedKeys" | "ListTopics", request: unknown, metadata = this.metadata()): Promise<grpc.ServiceError> {
    try {
      await this.call(method, request, metadata);
    } catch (error) {
      return error as grpc.ServiceError;
    }
    throw new Error(`${method} succeeded where it should have failed`);
  }

  close(): void {
    this.client.close();
    this.reflection.close();
  }
}

/** A text event in the CloudEvents protobuf format (JSON data, optional ordering key). */
export function jsonEvent(id: string, data: unknown, orderingKey?: string): WireEvent {
  const attributes: Record<string, AttributeValue> = { datacontenttype: { ceString: "application/json" } };
  if (orderingKey !== undefined) attributes.orderingkey = { ceString: orderingKey };
  return { id, source: "/sidecar-test", specVersion: "1.0", type: "test.sidecar", attributes, textData: JSON.stringify(data) };
}
