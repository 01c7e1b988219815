import { Group, SegmentedControl, TextInput } from '@mantine/core';
import { type DayRange, type Preset, PRESETS, presetRange, todayUtc } from '../time.ts';

export function RangePicker({
  preset,
  range,
  onChange,
}: {
  preset: Preset;
  range: DayRange;
  onChange: (preset: Preset, range: DayRange) => void;
}) {
  return (
    <Group gap="sm" align="flex-end" wrap="wrap">
      <SegmentedControl
        aria-label="Date range"
        data={PRESETS}
        value={preset}
        onChange={(v) => {
          const p = v as Preset;
          onChange(p, p === 'custom' ? range : presetRange(p));
        }}
      />
      {preset === 'custom' && (
        <>
          <TextInput
            type="date"
            label="From (UTC)"
            value={range.from}
            max={range.to}
            onChange={(e) => e.currentTarget.value && onChange('custom', { ...range, from: e.currentTarget.value })}
            size="xs"
          />
          <TextInput
            type="date"
            label="To (UTC, included)"
            value={range.to}
            min={range.from}
            max={todayUtc()}
            onChange={(e) => e.currentTarget.value && onChange('custom', { ...range, to: e.currentTarget.value })}
            size="xs"
          />
        </>
      )}
    </Group>
  );
}
