// The live progress line (on stderr, so stdout carries only the summary):
// phase, connected, sent, received, errors and the p99 of the last second.
import cliProgress from 'cli-progress';

export interface LiveCounters {
  connected: number;
  sent: number;
  received: number;
  errors: number;
  /** p99 of the last complete second, ms; null before the first one. */
  p99(): number | null;
}

export class Progress {
  private readonly bar = new cliProgress.SingleBar(
    {
      format: '{label} {phase} |{bar}| {value}/{total} | conn {connected} | sent {sent} | recv {received} | err {errors} | p99 {p99}',
      hideCursor: true,
      // Logs and CI are not TTYs: print a line every 2 s there instead of nothing.
      noTTYOutput: true,
      notTTYSchedule: 2000,
      barsize: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  private timer: NodeJS.Timeout | null = null;
  private value: () => number = () => 0;
  private phaseName = '';

  constructor(
    private readonly counters: LiveCounters,
    private readonly label: string,
  ) {}

  /** Starts (or switches to) a phase whose progress is value()/total. */
  phase(name: string, total: number, value: () => number): void {
    this.phaseName = name;
    this.value = value;
    if (!this.timer) {
      this.bar.start(total, 0, this.payload());
      this.timer = setInterval(() => this.bar.update(Math.round(this.value()), this.payload()), 250);
    } else {
      this.bar.setTotal(total);
      this.bar.update(Math.round(value()), this.payload());
    }
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.bar.update(Math.round(this.value()), this.payload());
    this.bar.stop();
  }

  private payload() {
    const c = this.counters;
    const p99 = c.p99();
    return {
      label: this.label,
      phase: this.phaseName.padEnd(8),
      connected: c.connected,
      sent: c.sent,
      received: c.received,
      errors: c.errors,
      p99: p99 === null ? '-' : `${p99.toFixed(1)}ms`,
    };
  }
}
