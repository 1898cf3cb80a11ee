/** Progress lines on stdout, with the elapsed time of the whole run. */
export class Progress {
  private readonly t0 = Date.now();

  constructor(private readonly section: string) {}

  private stamp(): string {
    const s = Math.round((Date.now() - this.t0) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  /** A new phase. */
  step(msg: string): void {
    console.log(`[${this.stamp()}] ${this.section}: ${msg}`);
  }

  /** A unit of work done within a phase. */
  tick(msg: string): void {
    console.log(`[${this.stamp()}]   ${msg}`);
  }
}
