// A clock for lib/ticker.ts whose timers fire only when the test advances time, in order, letting
// promises settle after each: a week of a schedule, or a ticker's runs, in a few milliseconds.
import type { TickerClock } from '../../src/lib/ticker.js';

export class FakeClock implements TickerClock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  /** Timers made so far. */
  made = 0;
  constructor(public t = 0) {}
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.made++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  now(): number {
    return this.t;
  }
  get pending(): number {
    return this.timers.length;
  }
  /** Move time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await settle();
  }
}

/** Let pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
