/** Progress of long work (export, import, seeding) on stderr: a line rewritten in place on a terminal, else an occasional plain line. */
export interface ProgressSink {
  write(text: string): void;
  /** A terminal: the line is rewritten in place, up to ten times a second. */
  tty: boolean;
  /** The least time between two lines (default: 100 ms on a terminal, 2 s otherwise). */
  intervalMs?: number;
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

const count = (n: number) => n.toLocaleString('en-US');

export class Progress {
  private items = 0;
  private bytes = 0;
  private lastPrinted = 0;
  private printed = false;

  constructor(
    /** "exporting", "importing", "seeding" */
    private readonly verb: string,
    /** What is counted: "object blobs", "objects" */
    private readonly noun: string,
    private readonly totalItems: number,
    private readonly totalBytes: number,
    private readonly sink: ProgressSink | undefined,
    private readonly now: () => number = Date.now,
  ) {
    // The first line comes one interval after the start: short work prints nothing.
    this.lastPrinted = now();
  }

  /** More items done, and more bytes (of the current item or of those done). */
  add(items: number, bytes: number): void {
    this.items += items;
    this.bytes += bytes;
    if (!this.sink) return;
    // A terminal line is cheap to rewrite; a log (CI, a file) gets a line every few seconds at most.
    const interval = this.sink.intervalMs ?? (this.sink.tty ? 100 : 2000);
    const t = this.now();
    if (t - this.lastPrinted < interval) return;
    this.lastPrinted = t;
    this.print();
  }

  /** The final state, when anything was printed before (short work prints nothing). */
  done(): void {
    if (this.sink && this.printed) {
      this.print();
      if (this.sink.tty) this.sink.write('\n');
    }
  }

  private print(): void {
    const line = `${this.verb}: ${count(this.items)}/${count(this.totalItems)} ${this.noun}, ${formatBytes(this.bytes)} of ${formatBytes(this.totalBytes)}`;
    this.sink!.write(this.sink!.tty ? `\r${line}\x1b[K` : `${line}\n`);
    this.printed = true;
  }
}
