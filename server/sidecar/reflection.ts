import type { DescFile, DescMessage, DescEnum, DescService, MessageInitShape } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "./gen/grpc/reflection/v1/reflection_pb";
import * as v1alpha from "./gen/grpc/reflection/v1alpha/reflection_pb";

/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) for the services served, so grpcurl-style tools
 * list them and fetch their descriptors. Answers come from the descriptors the generated code embeds, so they
 * always match what is served. Contract: each request gets one response, in order; list_services names
 * every service; file_by_filename and file_containing_symbol answer the file and its transitive dependencies
 * (serialized FileDescriptorProtos); an unknown file or symbol, and the extension queries (whisper's protos
 * declare no extensions), answer an error_response with NOT_FOUND, and the stream goes on.
 */
export function registerReflection(router: ConnectRouter, served: readonly DescService[]): void {
  const index = new DescriptorIndex(served);
  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield { validHost: request.host, originalRequest: request, messageResponse: index.answer(request) };
    },
  });
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield { validHost: request.host, originalRequest: request, messageResponse: index.answer(request) };
    },
  });
}

type Answer = MessageInitShape<typeof v1.ServerReflectionResponseSchema>["messageResponse"] &
  MessageInitShape<typeof v1alpha.ServerReflectionResponseSchema>["messageResponse"];
type Request = Pick<v1.ServerReflectionRequest, "messageRequest"> | Pick<v1alpha.ServerReflectionRequest, "messageRequest">;

class DescriptorIndex {
  readonly #services: string[];
  readonly #files = new Map<string, DescFile>();
  readonly #symbols = new Map<string, DescFile>();

  constructor(served: readonly DescService[]) {
    const all = [...served, v1.ServerReflection, v1alpha.ServerReflection];
    this.#services = all.map((s) => s.typeName);
    for (const service of all) this.#addFile(service.file);
  }

  #addFile(file: DescFile): void {
    if (this.#files.has(file.proto.name)) return;
    this.#files.set(file.proto.name, file);
    const addMessage = (m: DescMessage) => {
      this.#symbols.set(m.typeName, file);
      m.nestedMessages.forEach(addMessage);
      m.nestedEnums.forEach((e: DescEnum) => this.#symbols.set(e.typeName, file));
    };
    file.messages.forEach(addMessage);
    file.enums.forEach((e) => this.#symbols.set(e.typeName, file));
    for (const service of file.services) {
      this.#symbols.set(service.typeName, file);
      for (const method of service.methods) this.#symbols.set(`${service.typeName}.${method.name}`, file);
    }
    file.dependencies.forEach((d) => this.#addFile(d));
  }

  answer({ messageRequest: request }: Request): Answer {
    switch (request.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.#services.map((name) => ({ name })) } };
      case "fileByFilename":
        return this.#file(this.#files.get(request.value), `file ${request.value}`);
      case "fileContainingSymbol":
        return this.#file(this.#symbols.get(request.value.replace(/^\./, "")), `symbol ${request.value}`);
      case "fileContainingExtension":
        return notFound(`no extension ${request.value.extensionNumber} of ${request.value.containingType}`);
      case "allExtensionNumbersOfType":
        return this.#symbols.has(request.value)
          ? { case: "allExtensionNumbersResponse", value: { baseTypeName: request.value, extensionNumber: [] } }
          : notFound(`type ${request.value}`);
      default:
        return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "set one of the message_request fields" } };
    }
  }

  /** The file and its transitive dependencies, the file first. */
  #file(file: DescFile | undefined, what: string): Answer {
    if (file === undefined) return notFound(what);
    const ordered: DescFile[] = [];
    const visit = (f: DescFile) => {
      if (ordered.includes(f)) return;
      ordered.push(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: ordered.map((f) => toBinary(FileDescriptorProtoSchema, f.proto)) } };
  }
}

function notFound(what: string): Answer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } };
}
