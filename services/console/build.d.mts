/** Types of build.mjs for the server code that imports it. */
export function sourceHash(): string;
export function isStale(): boolean;
