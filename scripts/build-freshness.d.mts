export declare const BUILD_SOURCES: string[];
export declare function newestMtime(root: string, paths?: string[]): number;
export declare function buildIsFresh(root: string, distDir: string): boolean;
