/** Worker slots with a private redis-server each (vitest's maxWorkers is 2; spare slots cost nothing). */
export const REDIS_SLOTS = 4;
const BASE_PORT = 16380;

export function redisPortForSlot(slot: number): number {
  return BASE_PORT + slot;
}
