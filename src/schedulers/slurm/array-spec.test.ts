import { describe, expect, it } from 'vitest';
import { UserError } from '../../lib/errors.js';
import { DEFAULT_MAX_ARRAY_SIZE, formatTaskIds, parseArraySpec } from './array-spec.js';

function range(first: number, last: number, step = 1): number[] {
  const out: number[] = [];
  for (let i = first; i <= last; i += step) out.push(i);
  return out;
}

describe('parseArraySpec', () => {
  // sbatch(1), -a/--array: '"--array=0-15" or "--array=0,6,16-32". A step function can also be
  // specified with a suffix containing a colon and number. For example, "--array=0-15:4" is
  // equivalent to "--array=0,4,8,12". ... "--array=0-15%4" will limit the number of simultaneously
  // running tasks from this job array to 4. The minimum index value is 0. the maximum value is one
  // less than the configuration parameter MaxArraySize.'
  // job_array.html: '--array=1-7:2 ... with a step size of 2 (i.e. 1, 3, 5 and 7)'
  const cases: Array<[string, number[], number | null]> = [
    ['0-15', range(0, 15), null],
    ['0,6,16-32', [0, 6, ...range(16, 32)], null],
    ['0-15:4', [0, 4, 8, 12], null],
    ['0-15%4', range(0, 15), 4],
    ['1,3,5,7', [1, 3, 5, 7], null],
    ['1-7:2', [1, 3, 5, 7], null],
    // From the brief and checked against sbatch 22.05 (scontrol: ArrayTaskId=1,3,5,7,9,11%2).
    ['1,3,5-11:2', [1, 3, 5, 7, 9, 11], null],
    ['1,3,5-11:2%2', [1, 3, 5, 7, 9, 11], 2],
    ['0-9:3', [0, 3, 6, 9], null],
    // Single index, overlaps and duplicates collapse (slurmctld keeps a bitmap), order does not matter.
    ['7', [7], null],
    ['5-8,0-6,6', range(0, 8), null],
    ['9,1', [1, 9], null],
    // squeue's own notation with brackets is accepted by slurmctld.
    ['[0-3]', [0, 1, 2, 3], null],
    ['[0-6:3]%1', [0, 3, 6], 1],
    // A stepped range ending off the step stops before the end.
    ['0-10:4', [0, 4, 8], null],
    // %0, a bare % and even %x mean no limit (atoi → 0), as slurmctld reads them (sbatch 22.05:
    // --array=0-3%x and 0-3% both give ArrayTaskId=0-3).
    ['0-3%0', range(0, 3), null],
    ['0-3%', range(0, 3), null],
    ['0-3%x', range(0, 3), null],
    // The limit is read after the first '%', whatever token it is in.
    ['0-3%2,8', [0, 1, 2, 3, 8], 2],
    // Empty tokens are skipped (strtok).
    ['1,,3', [1, 3], null],
    // The largest index with the default MaxArraySize=1001.
    ['1000', [1000], null],
  ];
  it.each(cases)('%s', (spec, ids, maxRunning) => {
    const got = parseArraySpec(spec);
    expect(got.taskIds).toEqual(ids);
    expect(got.maxRunning).toBe(maxRunning);
    expect(got.spec).toBe(spec);
  });

  const invalid: Array<[string, RegExp]> = [
    ['', /empty/],
    [',', /empty/],
    ['-1', /"-1" is not an index/],
    ['a-b', /"a-b" is not an index/],
    ['5-3', /5-3 runs backwards/],
    ['0-9:0', /step 0/],
    ['3:2', /"3:2" is not an index/], // a step needs a range (sbatch 22.05: "Invalid job array specification")
    ['0-9:x', /"0-9:x"/],
    ['1 - 3', /"1 - 3"/],
    ['0-1001', /index 1001 is above the largest allowed index 1000 \(MaxArraySize=1001\)/],
    ['0-1000000000', /index 1000000000 is above/],
    ['99999999999999999999', /too large/],
  ];
  it.each(invalid)('refuses %j with a message naming it', (spec, message) => {
    let err: unknown;
    try {
      parseArraySpec(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain(`--array=${spec}`);
    expect((err as Error).message).toMatch(message);
  });

  it('takes the cluster limits when given', () => {
    expect(parseArraySpec('0-4000000:1000000', { maxArraySize: 4_000_001 }).taskIds).toEqual([0, 1_000_000, 2_000_000, 3_000_000, 4_000_000]);
    expect(() => parseArraySpec('0-10', { maxArraySize: 10 })).toThrow(/index 10 is above the largest allowed index 9/);
    // SchedulerParameters=max_array_tasks limits the count, not the indexes.
    expect(parseArraySpec('0-500:100', { maxArraySize: 100_001, maxArrayTasks: 10 }).taskIds).toEqual([0, 100, 200, 300, 400, 500]);
    expect(() => parseArraySpec('0-10', { maxArraySize: 100_001, maxArrayTasks: 10 })).toThrow(/11 tasks is more than the 10/);
    expect(() => parseArraySpec('0', { maxArraySize: 0 })).toThrow(/disabled/);
    expect(() => parseArraySpec('0', { maxArraySize: 5_000_000 })).toThrow(/MaxArraySize 5000000 is out of range/);
    expect(DEFAULT_MAX_ARRAY_SIZE).toBe(1001);
  });

  it('is quick on the largest spec a cluster can allow', () => {
    const t0 = performance.now();
    const got = parseArraySpec('0-4000000', { maxArraySize: 4_000_001 });
    expect(got.taskIds.length).toBe(4_000_001);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('formatTaskIds', () => {
  const cases: Array<[number[], string]> = [
    [[0, 1, 2, 3, 7, 9, 10], '0-3,7,9-10'],
    [[], ''],
    [[5], '5'],
    [[3, 1, 2, 2], '1-3'],
    [[0, 4, 8, 12], '0,4,8,12'],
    [range(0, 1000), '0-1000'],
  ];
  it.each(cases)('%j → %s', (ids, text) => {
    expect(formatTaskIds(ids)).toBe(text);
  });

  it('round-trips with parseArraySpec', () => {
    for (const spec of ['0-15', '1,3,5-11:2', '0,6,16-32', '0-9:3']) {
      const ids = parseArraySpec(spec).taskIds;
      expect(parseArraySpec(formatTaskIds(ids)).taskIds).toEqual(ids);
    }
  });
});
