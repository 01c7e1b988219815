export { consolePlugin, contentSecurityPolicy, CONSOLE_DIST } from './consolePlugin.ts';
export type { ConsoleOptions } from './consolePlugin.ts';
export { ensureConsoleBuilt } from './ensureBuilt.ts';
