/**
 * Error classification: whether an insert error says ClickHouse could not take the rows
 * now (retry without blame) or that the rows are bad (counts toward dead-lettering).
 */
const TRANSIENT_TYPES =
  /TOO_MANY|MEMORY_LIMIT|CANNOT_ALLOCATE|TIMEOUT|TIMED_OUT|SOCKET|NETWORK|READONLY|READ_ONLY|NOT_ENOUGH_SPACE|ABORTED|CANCELLED|KEEPER|CONNECTION|UNAVAILABLE|LIMIT_EXCEEDED|NO_FREE_CONNECTION|SHUTDOWN/;

/**
 * Whether an insert error says ClickHouse could not take the rows now (overload, resources,
 * timeouts), rather than that the rows are bad. Such errors must never dead-letter an entry:
 * right after a bulk load, for instance, ClickHouse refuses inserts with TOO_MANY_PARTS until
 * its merges catch up, while it still answers pings.
 */
export function isTransientInsertError(err: unknown): boolean {
  const type = String((err as { type?: unknown })?.type ?? '');
  if (type && TRANSIENT_TYPES.test(type)) return true;
  const text = String((err as { message?: unknown })?.message ?? err);
  return /\((TOO_MANY_PARTS|MEMORY_LIMIT_EXCEEDED|TIMEOUT_EXCEEDED|TOO_MANY_SIMULTANEOUS_QUERIES|NOT_ENOUGH_SPACE|SOCKET_TIMEOUT)\)/.test(text) || /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE/.test(text);
}
