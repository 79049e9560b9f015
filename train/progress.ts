/**
 * A one-line progress bar for training loops: step, percentage, rate, ETA and the latest metrics.
 * On a terminal it redraws in place; in a log (CI, a pipe) it prints a plain line every `every`
 * steps so that progress stays visible without flooding the output.
 */

export interface ProgressOptions {
  /** Total number of steps. */
  total: number;
  label?: string;
  /** Where to write (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** In non-TTY mode, print every `every` steps (default total/10). */
  every?: number;
  /** Steps already done when the bar starts (a resumed run): the rate and ETA count only new ones. */
  initial?: number;
}

export class Progress {
  private readonly start = Date.now();
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly every: number;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.every = opts.every ?? Math.max(1, Math.round(opts.total / 10));
  }

  /** Report that `step` steps (1-based) are done, with metrics to show. */
  update(step: number, metrics: Record<string, number> = {}): void {
    if (!this.tty && step % this.every !== 0 && step !== this.opts.total) return;
    const { total, label = '' } = this.opts;
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = (step - (this.opts.initial ?? 0)) / Math.max(elapsed, 1e-9);
    const eta = (total - step) / Math.max(rate, 1e-9);
    const width = 24;
    const filled = Math.round((width * step) / total);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const shown = Object.entries(metrics).map(([k, v]) => `${k} ${formatNumber(v)}`).join('  ');
    const text = `${label} ${bar} ${step}/${total} (${((100 * step) / total).toFixed(0)}%)  ${rate.toFixed(1)} it/s  eta ${formatTime(eta)}  ${shown}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${text}`);
    else this.stream.write(`${text}\n`);
  }

  /** End the bar (moves to a new line on a terminal). */
  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}

function formatNumber(v: number): string {
  return Math.abs(v) >= 100 || v === 0 ? v.toFixed(1) : v.toPrecision(4);
}

export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
