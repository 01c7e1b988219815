/** Routes the console reads besides Quay's logs routes: global messages and the console's read endpoints. */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { registerConsoleReadRoutes } from './consoleReads.ts';
import { registerGlobalMessageRoutes } from './globalMessages.ts';

export function registerConsoleRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerGlobalMessageRoutes(app, ctx);
  registerConsoleReadRoutes(app, ctx);
}
