import { PartialSendError } from "../errors.js";

/**
 * Ends a driver's sendBatch by the sendBatch contract: returns when `failures` (index → error) is empty,
 * throws the error itself for a batch of one, else a PartialSendError naming each unsent message's error.
 */
export function throwIfUnsent(failures: ReadonlyMap<number, unknown>, batchSize: number): void {
  if (failures.size === 0) return;
  if (batchSize === 1) throw failures.values().next().value;
  throw new PartialSendError(failures, batchSize);
}
