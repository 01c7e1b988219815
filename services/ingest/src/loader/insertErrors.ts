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

/** Whether an insert error says the rows themselves are bad (unparseable or out of range). */
const DATA_ERRORS = 'CANNOT_PARSE_[A-Z_]+|INCORRECT_DATA|TYPE_MISMATCH|VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE|ARGUMENT_OUT_OF_BOUND|DECIMAL_OVERFLOW|CANNOT_READ_ALL_DATA|INCORRECT_NUMBER_OF_COLUMNS';

export function isDataInsertError(err: unknown): boolean {
  // The client puts the error name in `type`; other paths only have it in the text.
  const type = String((err as { type?: unknown })?.type ?? '');
  if (type && new RegExp(`^(${DATA_ERRORS})$`).test(type)) return true;
  const text = String((err as { message?: unknown })?.message ?? err);
  return new RegExp(`\\((${DATA_ERRORS})\\)|surrogate pair`).test(text);
}
