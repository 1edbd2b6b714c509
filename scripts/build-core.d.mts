/** Builds the core package (server/whisper/dist) unless it is newer than its sources; throws on failure. */
export declare function buildCore(root: string): void;
