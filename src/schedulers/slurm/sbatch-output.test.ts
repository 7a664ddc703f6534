import { describe, expect, it } from 'vitest';
import { captureJobs, slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { SlurmParseError } from './fields.js';
import { arrayTaskIds, parseSbatchOutput } from './sbatch-output.js';

const ids = captureJobs();

describe('sbatch output: real (slurm 22.05.8)', () => {
  it('--parsable prints the id', () => {
    expect(slurmFixture('sbatch-parsable.txt')).toBe(`${ids.ok}\n`);
    expect(parseSbatchOutput(slurmFixture('sbatch-parsable.txt'))).toEqual({ job_id: Number(ids.ok), cluster: null, form: 'parsable' });
  });

  it('--parsable -M localci prints id;cluster', () => {
    expect(parseSbatchOutput(slurmFixture('sbatch-parsable-cluster.txt'))).toEqual({ job_id: Number(ids.waiting), cluster: 'localci', form: 'parsable' });
  });

  it('plain: "Submitted batch job N"', () => {
    expect(parseSbatchOutput(slurmFixture('sbatch-plain.txt'))).toEqual({ job_id: Number(ids.running), cluster: null, form: 'plain' });
  });

  it('plain with -M: "Submitted batch job N on cluster X"', () => {
    expect(parseSbatchOutput(slurmFixture('sbatch-plain-cluster.txt'))).toEqual({ job_id: Number(ids.held), cluster: 'localci', form: 'plain' });
  });

  it('an array prints only the array job id; its tasks are id_0..id_3', () => {
    const { job_id } = parseSbatchOutput(slurmFixture('sbatch-parsable-array.txt'));
    expect(job_id).toBe(Number(ids.array));
    expect(arrayTaskIds(job_id, [0, 1, 2, 3])).toEqual([0, 1, 2, 3].map((t) => `${ids.array}_${t}`));
  });
});

describe('sbatch output: other forms', () => {
  it('extra lines and CRLF (hand-written)', () => {
    // Hand-written: a site job_submit plugin message before the id.
    expect(parseSbatchOutput('NOTE: jobs without --time get 1 hour\nSubmitted batch job 7\n')).toMatchObject({ job_id: 7 });
    expect(parseSbatchOutput('\r\n12\r\n')).toMatchObject({ job_id: 12, form: 'parsable' });
  });

  it('no id is a SlurmParseError quoting what sbatch printed', () => {
    expect(() => parseSbatchOutput('')).toThrow(SlurmParseError);
    expect(() => parseSbatchOutput('sbatch: error: Batch job submission failed: Invalid account\n')).toThrow(/no job id .*Invalid account/);
    expect(() => parseSbatchOutput('0\n')).toThrow(/bad job id 0/);
  });
});
