/**
 * The admin API's contract, one source of truth: its inputs (inputs.ts, what routes parse with), its outputs
 * (shapes.ts, what routes answer) and its operations (operations.ts). /api/openapi.json, the services' and
 * the UI's types are derived from it. It imports nothing of the web layer, so every layer may use it.
 */
export * from "./inputs";
export * as shapes from "./shapes";
export type { Shape } from "./shape";
export { OPERATIONS, operation, type Access, type Answer, type Operation } from "./operations";
