import { Tooltip } from '@mantine/core';
import { local, parseDate, utc } from '../time.ts';

/** A time in UTC; hovering (or focusing) shows it in the reader's local time. */
export function When({ value }: { value: string | Date | null | undefined }) {
  const d = value instanceof Date ? value : parseDate(value ?? null);
  if (!d) return <span>—</span>;
  return (
    <Tooltip label={local(d)} withArrow openDelay={200}>
      <time dateTime={d.toISOString()} className="ql-nowrap" tabIndex={0}>
        {utc(d)}
      </time>
    </Tooltip>
  );
}
