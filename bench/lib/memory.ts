/** Peak resident memory of this process, per phase (sampled) and over its life (maxRSS). */
export class MemoryWatch {
  private readonly peaks = new Map<string, number>();
  private phase = 'setup';
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > (this.peaks.get(this.phase) ?? 0)) this.peaks.set(this.phase, rss);
  }

  /** Starts a new phase (peaks are kept per phase name). */
  enter(phase: string): void {
    this.sample();
    this.phase = phase;
    this.sample();
  }

  /** Peak RSS per phase, MiB, and the process's maxRSS (MiB). */
  report(): { phases: Record<string, number>; maxRssMiB: number } {
    this.sample();
    clearInterval(this.timer);
    const phases: Record<string, number> = {};
    for (const [k, v] of this.peaks) phases[k] = v / 2 ** 20;
    // resourceUsage().maxRSS is in KiB.
    return { phases, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  }
}
