/** Durations for people: `22 d 17 h`, `3 h 5 min`, `4 min 10 s`, `12 s` (the two largest units). */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n} ${name}`);
    if (parts.length === 2) break;
  }
  if (parts.length === 0) return '0 s';
  // "3 h 0 min" reads worse than "3 h".
  return parts.filter((p, i) => i === 0 || !p.startsWith('0 ')).join(' ');
}
