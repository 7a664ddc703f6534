// The ticker, driven by a fake clock: when runs happen, that they never overlap, stop, wake, errors.
import { FakeClock } from '../../test/support/fake-clock.js';
import { describe, expect, it } from 'vitest';
import { Ticker, type TickResult } from './ticker.js';


/** A run the test finishes by hand. */
function gate(): { promise: Promise<TickResult>; open: (r?: TickResult) => void } {
  let open!: (r?: TickResult) => void;
  const promise = new Promise<TickResult>((r) => (open = r));
  return { promise, open };
}

function make(opts: { intervalMs?: number; run?: () => TickResult | Promise<TickResult> } = {}) {
  const clock = new FakeClock();
  const runs: number[] = [];
  const errors: unknown[] = [];
  const ticker = new Ticker({
    clock,
    intervalMs: 'intervalMs' in opts ? opts.intervalMs : 1000,
    onError: (e) => errors.push(e),
    run: () => {
      runs.push(clock.now());
      return opts.run?.();
    },
  });
  return { clock, runs, errors, ticker };
}

describe('Ticker', () => {
  it('runs after the first delay, then one interval after each run ends', async () => {
    let n = 0;
    const { clock, runs, ticker } = make({ intervalMs: 1000, run: () => void n++ });
    ticker.start(50);
    await clock.advance(49);
    expect(runs).toEqual([]);
    await clock.advance(3500);
    expect(runs).toEqual([50, 1050, 2050, 3050]);
    expect(n).toBe(4);
  });

  it('never starts a run while the previous one runs, and waits the interval from its end', async () => {
    const gates: ReturnType<typeof gate>[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const { clock, runs, ticker } = make({
      intervalMs: 100,
      run: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const g = gate();
        gates.push(g);
        await g.promise;
        inFlight--;
      },
    });
    ticker.start();
    await clock.advance(0);
    expect(runs).toEqual([0]);
    ticker.wake();
    ticker.wake();
    await clock.advance(5000); // far past the interval: still the one run
    expect(runs).toEqual([0]);
    gates[0]!.open();
    await clock.advance(0);
    // Woken while running: once more at once, not once per wake.
    expect(runs).toEqual([0, 5000]);
    await clock.advance(300);
    expect(runs).toEqual([0, 5000]);
    gates[1]!.open();
    await clock.advance(99);
    expect(runs).toEqual([0, 5000]);
    await clock.advance(1);
    expect(runs).toEqual([0, 5000, 5400]);
    expect(maxInFlight).toBe(1);
  });

  it('stop() waits for the run in progress, and nothing runs after it resolved', async () => {
    const g = gate();
    let finished = false;
    const { clock, runs, ticker } = make({
      intervalMs: 10,
      run: async () => {
        await g.promise;
        finished = true;
      },
    });
    ticker.start();
    await clock.advance(0);
    let stopped = false;
    const stopping = ticker.stop().then(() => (stopped = true));
    ticker.wake(); // ignored once stopping
    await clock.advance(100);
    expect(stopped).toBe(false);
    g.open();
    await stopping;
    expect(finished).toBe(true);
    await clock.advance(10_000);
    expect(runs).toEqual([0]);
    expect(clock.pending).toBe(0);
  });

  it('stop() before the first run: it never runs', async () => {
    const { clock, runs, ticker } = make();
    ticker.start(100);
    await ticker.stop();
    await clock.advance(10_000);
    expect(runs).toEqual([]);
  });

  it('wake() coalesces, runs sooner than the interval, and never later than a due timer', async () => {
    const { clock, runs, ticker } = make({ intervalMs: 1000 });
    ticker.start(0);
    await clock.advance(0);
    await clock.advance(200);
    const made = clock.made;
    for (let i = 0; i < 1000; i++) ticker.wake(); // a doorbell flood
    expect(clock.made - made).toBe(1); // one timer replaced the interval's, not one per wake
    await clock.advance(0);
    expect(runs).toEqual([0, 200]);
    await clock.advance(999);
    expect(runs).toEqual([0, 200]);
    await clock.advance(1);
    expect(runs).toEqual([0, 200, 1200]);
    expect(clock.pending).toBe(1);
  });

  it('a throwing or rejecting run is reported and the loop goes on', async () => {
    let n = 0;
    const { clock, runs, errors, ticker } = make({
      intervalMs: 100,
      run: () => {
        n++;
        if (n === 1) throw new Error('sync boom');
        if (n === 2) return Promise.reject(new Error('async boom'));
        return undefined;
      },
    });
    ticker.start();
    await clock.advance(250);
    expect(errors.map((e) => (e as Error).message)).toEqual(['sync boom', 'async boom']);
    expect(runs).toEqual([0, 100, 200]);
  });

  it('honours the delay a run returns (backoff), the interval otherwise', async () => {
    const delays: TickResult[] = [5000, 0, undefined, 20];
    const { clock, runs, ticker } = make({ intervalMs: 1000, run: () => delays.shift() });
    ticker.start();
    await clock.advance(10_000);
    expect(runs.slice(0, 6)).toEqual([0, 5000, 5000, 6000, 6020, 7020]);
  });

  it('an interval function is asked after each run', async () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    // The wait grows with the number of runs so far: 300, 600, 900 ...
    const ticker = new Ticker({ clock, intervalMs: () => 300 * runs.length, onError: () => {}, run: () => void runs.push(clock.now()) });
    ticker.start();
    await clock.advance(1000);
    expect(runs).toEqual([0, 300, 900]);
  });

  it('without an interval, waits for wake()', async () => {
    const { clock, runs, ticker } = make({ intervalMs: undefined });
    ticker.start();
    await clock.advance(60_000);
    expect(runs).toEqual([0]);
    expect(clock.pending).toBe(0);
    ticker.wake();
    await clock.advance(0);
    expect(runs).toEqual([0, 60_000]);
  });

  it('runNow() runs at once, after a run in progress, even when stopped', async () => {
    const g = gate();
    let first = true;
    const { clock, runs, ticker } = make({
      intervalMs: 1000,
      run: () => {
        if (!first) return undefined;
        first = false;
        return g.promise;
      },
    });
    ticker.start();
    await clock.advance(0);
    let done = false;
    const now = ticker.runNow().then(() => (done = true));
    await clock.advance(10);
    expect(done).toBe(false);
    g.open();
    await now;
    expect(runs).toEqual([0, 10]);
    await ticker.stop();
    await ticker.runNow();
    expect(runs).toEqual([0, 10, 10]);
    expect(clock.pending).toBe(0);
  });

  it('start() during a runNow() of a stopped ticker does not overlap it', async () => {
    const g = gate();
    let inFlight = 0;
    let maxInFlight = 0;
    let first = true;
    const { clock, runs, ticker } = make({
      intervalMs: 100,
      run: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (first) {
          first = false;
          await g.promise;
        }
        inFlight--;
      },
    });
    const now = ticker.runNow();
    ticker.start(0);
    await clock.advance(50);
    expect(runs).toEqual([0]);
    g.open();
    await now;
    await clock.advance(100);
    expect(runs).toEqual([0, 150]);
    expect(maxInFlight).toBe(1);
  });
});
