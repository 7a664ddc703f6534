// The one periodic-work primitive (DESIGN.md, Style 12): every loop of the product (ingest,
// delivery queues, SLURM poller, node watcher, lease, agent, samplers) is a Ticker. A run never
// starts while the previous one is running; the next run is armed when a run ends — after the
// delay the run returned (backoff, "more work: 0", a drift-free schedule), else after the
// interval, else not until wake(). wake() runs as soon as possible, coalesced: many wakes before
// (or during) a run make one run. A throwing run is reported to onError and the loop goes on.
// stop() resolves once a run in progress has ended, and no run starts after that.
// The clock is injected, so tests drive a ticker without real time.

export interface TickerClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realClock: TickerClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  now: () => Date.now(),
};

/** What a run may return: the ms to wait before the next run; nothing for the default. */
export type TickResult = number | void | undefined;

export interface TickerOptions {
  run: () => TickResult | Promise<TickResult>;
  /** A throwing (or rejecting) run; the next run is armed as if the run returned nothing. */
  onError: (err: unknown) => void;
  /** Delay after a run that returned nothing (a function: computed then); absent: wait for wake(). */
  intervalMs?: number | (() => number);
  clock?: TickerClock;
  /** Don't keep the process alive for this ticker's timer. */
  unref?: boolean;
}

export class Ticker {
  private readonly clock: TickerClock;
  private active = false;
  private handle: unknown = null;
  private dueMs = Infinity;
  private inFlight: Promise<void> | null = null;
  private woken = false;

  constructor(private readonly o: TickerOptions) {
    this.clock = o.clock ?? realClock;
  }

  /** Whether the loop is started (and not stopped). */
  get started(): boolean {
    return this.active;
  }

  /** Start the loop; the first run comes after `firstDelayMs`. A started ticker is left as it is. */
  start(firstDelayMs = 0): void {
    if (this.active) return;
    this.active = true;
    this.arm(firstDelayMs);
  }

  /** Run as soon as possible (after a run in progress, if any). Ignored while stopped. */
  wake(): void {
    if (!this.active) return;
    if (this.inFlight) this.woken = true;
    else this.arm(0);
  }

  /** Run once now, after a run in progress (tests, `hub --once`); works stopped too. */
  async runNow(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    await this.runOnce();
  }

  /** Stop: resolves when a run in progress has ended; no run starts after that. */
  async stop(): Promise<void> {
    this.active = false;
    this.disarm();
    while (this.inFlight) await this.inFlight;
  }

  /** Arm the timer for `delayMs` from now, unless it is already armed to fire sooner. */
  private arm(delayMs: number): void {
    const due = this.clock.now() + Math.max(0, delayMs);
    if (this.handle !== null) {
      if (this.dueMs <= due) return;
      this.disarm();
    }
    this.dueMs = due;
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      this.dueMs = Infinity;
      if (this.active && !this.inFlight) void this.runOnce();
    }, Math.max(0, delayMs));
    if (this.o.unref) (this.handle as { unref?: () => void }).unref?.();
  }

  private disarm(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
    this.dueMs = Infinity;
  }

  private runOnce(): Promise<void> {
    this.disarm();
    this.woken = false;
    let release!: () => void;
    const finished = new Promise<void>((r) => (release = r));
    // Set before the run is called: a wake() from the run's own synchronous part is coalesced.
    this.inFlight = finished;
    const done = (next: TickResult): void => {
      this.inFlight = null;
      if (this.active) {
        if (this.woken) this.arm(0);
        else {
          const interval = typeof this.o.intervalMs === 'function' ? this.o.intervalMs() : this.o.intervalMs;
          const delay = typeof next === 'number' ? next : interval;
          if (delay !== undefined) this.arm(delay);
        }
      }
      this.woken = false;
      release();
    };
    const failed = (err: unknown): void => {
      try {
        this.o.onError(err);
      } finally {
        done(undefined);
      }
    };
    try {
      Promise.resolve(this.o.run()).then(done, failed);
    } catch (err) {
      failed(err);
    }
    return finished;
  }
}
