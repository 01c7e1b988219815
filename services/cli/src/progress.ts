import cliProgress from 'cli-progress';

/** A rows / rate / ETA progress bar on stderr (plain lines when stderr is not a terminal). */
export function rowProgress(label: string, total: number) {
  if (!process.stderr.isTTY) {
    let lastPrint = 0;
    const started = Date.now();
    return {
      update(n: number) {
        const now = Date.now();
        if (now - lastPrint < 2000 && n < total) return;
        lastPrint = now;
        const rate = n / Math.max(0.001, (now - started) / 1000);
        process.stderr.write(`${label}: ${n.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows, ${Math.round(rate).toLocaleString('en-US')} rows/s\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total, 0, { rate: 0 });
  return {
    update(n: number) {
      bar.update(n, { rate: Math.round(n / Math.max(0.001, (Date.now() - started) / 1000)).toLocaleString('en-US') });
    },
    stop() {
      bar.stop();
    },
  };
}
