import type { z } from "zod";
import type * as shapes from "./shapes";

/** The TypeScript type of the contract's shape `K` (what the API answers), for the services and the UI. */
export type Shape<K extends keyof typeof shapes> = z.output<(typeof shapes)[K]>;
