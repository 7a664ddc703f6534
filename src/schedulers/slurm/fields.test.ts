import { describe, expect, it } from 'vitest';
import {
  firstNode,
  SLURM_MAX_FIELD_CHARS,
  SlurmParseError,
  boundedLines,
  columnsFromFormat,
  gresGpus,
  parseDurationSeconds,
  parseExitStatus,
  parseGres,
  parseJobIdParts,
  parsePipeTable,
  parseSizeBytes,
  parseSlurmTime,
  parseTres,
  tresGpus,
} from './fields.js';

describe('durations', () => {
  it('reads every form SLURM prints', () => {
    expect(parseDurationSeconds('00:00:03')).toBe(3); // sacct Elapsed
    expect(parseDurationSeconds('00:01:16')).toBe(76);
    expect(parseDurationSeconds('1-02:03:04')).toBe(86400 + 2 * 3600 + 3 * 60 + 4);
    expect(parseDurationSeconds('00:02.819')).toBeCloseTo(2.819, 6); // sacct TotalCPU MM:SS.mmm
    expect(parseDurationSeconds('01:02:03')).toBe(3723);
    expect(parseDurationSeconds('0:02')).toBe(2); // squeue %M
    expect(parseDurationSeconds('5:00')).toBe(300); // squeue %l
    expect(parseDurationSeconds('1:10:00')).toBe(4200);
    expect(parseDurationSeconds('1-00:00:00')).toBe(86400); // sinfo %l
    expect(parseDurationSeconds('2-12')).toBe(2 * 86400 + 12 * 3600);
  });

  it('no value and no limit are null', () => {
    for (const t of ['UNLIMITED', 'infinite', 'Partition_Limit', 'INVALID', 'N/A', '', 'Unknown', 'NOT_SET']) {
      expect(parseDurationSeconds(t)).toBeNull();
    }
    expect(parseDurationSeconds(undefined)).toBeNull();
  });

  it('garbage throws a SlurmParseError', () => {
    expect(() => parseDurationSeconds('soon')).toThrow(SlurmParseError);
    expect(() => parseDurationSeconds('1:2:3:4')).toThrow(/not a duration/);
  });
});

describe('sizes, exit codes, times, ids', () => {
  it('sizes are base 1024; a bare number takes the given unit', () => {
    expect(parseSizeBytes('620956K')).toBe(620956 * 1024);
    expect(parseSizeBytes('1.50M')).toBe(Math.round(1.5 * 1024 ** 2));
    expect(parseSizeBytes('4G')).toBe(4 * 1024 ** 3);
    expect(parseSizeBytes('0')).toBe(0);
    expect(parseSizeBytes('24105', 'M')).toBe(24105 * 1024 ** 2);
    expect(parseSizeBytes('')).toBeNull();
    expect(() => parseSizeBytes('lots')).toThrow(SlurmParseError);
  });

  it('exit codes N:S', () => {
    expect(parseExitStatus('3:0')).toEqual({ code: 3, signal: 0 });
    expect(parseExitStatus('0:15')).toEqual({ code: 0, signal: 15 });
    expect(parseExitStatus('')).toBeNull();
    expect(() => parseExitStatus('3')).toThrow(/N:S/);
  });

  it('times stay as printed (cluster-local, no zone)', () => {
    expect(parseSlurmTime('2026-11-21T16:17:34')).toBe('2026-11-21T16:17:34');
    expect(parseSlurmTime('Unknown')).toBeNull();
    expect(parseSlurmTime('None')).toBeNull();
    expect(() => parseSlurmTime('yesterday')).toThrow(SlurmParseError);
  });

  it('job ids with array tasks, unsplit arrays, steps and het components', () => {
    expect(parseJobIdParts('39_3.batch')).toEqual({ job_id: '39_3', base_id: 39, array_task_id: 3, array_task_spec: null, step: 'batch', het_offset: null });
    expect(parseJobIdParts('48_[0-3%2]')).toMatchObject({ job_id: '48_[0-3%2]', base_id: 48, array_task_id: null, array_task_spec: '0-3%2', step: null });
    expect(parseJobIdParts('18.extern')).toMatchObject({ job_id: '18', step: 'extern' });
    expect(parseJobIdParts('18.0')).toMatchObject({ job_id: '18', step: '0' });
    expect(parseJobIdParts('64+1')).toMatchObject({ job_id: '64+1', base_id: 64, het_offset: 1 });
    expect(() => parseJobIdParts('JobID')).toThrow(/not a job id/);
  });
});

describe('TRES and GRES', () => {
  it('TRES lists and their GPUs', () => {
    const t = parseTres('billing=1,cpu=1,mem=1G,node=1');
    expect(t.get('mem')).toBe('1G');
    expect(tresGpus(t)).toBeNull();
    // Hand-written (no GPU on the capture machine): the forms sacct AllocTRES prints for GPU jobs.
    expect(tresGpus(parseTres('billing=8,cpu=8,gres/gpu:a100=2,gres/gpu=2,mem=64G,node=1'))).toBe(2);
    expect(tresGpus(parseTres('cpu=8,gres/gpu:a100=2,gres/gpu:v100=1'))).toBe(3);
  });

  it('GRES strings as sinfo %G / squeue %b / scontrol TresPerNode print them (hand-written)', () => {
    expect(parseGres('(null)')).toEqual([]);
    expect(parseGres('gpu:a100:4(S:0-1)')).toEqual([{ name: 'gpu', type: 'a100', count: 4, detail: 'S:0-1' }]);
    expect(parseGres('gpu:4,mps:400')).toEqual([
      { name: 'gpu', type: null, count: 4, detail: null },
      { name: 'mps', type: null, count: 400, detail: null },
    ]);
    expect(parseGres('gres:gpu:1')).toEqual([{ name: 'gpu', type: null, count: 1, detail: null }]);
    expect(parseGres('gres/gpu:a100=2')).toEqual([{ name: 'gpu', type: 'a100', count: 2, detail: null }]);
    expect(parseGres('gpu:nvidia_a100-sxm4-80gb:8(S:0,1)')).toEqual([{ name: 'gpu', type: 'nvidia_a100-sxm4-80gb', count: 8, detail: 'S:0,1' }]);
    expect(parseGres('gpu')).toEqual([{ name: 'gpu', type: null, count: 1, detail: null }]);
    expect(gresGpus(parseGres('gpu:a100:4(S:0-1),gpu:v100:2(S:1)'))).toBe(6);
    expect(gresGpus(parseGres('mps:100'))).toBeNull();
  });
});

describe('bounded | tables', () => {
  const opts = {
    command: 'test',
    columns: ['A', 'NAME', 'B'],
    isHeader: (c: string[]) => c.includes('A') && c.every((x) => /^[A-Z]+$/.test(x)),
    freeText: 'NAME',
  };

  it('a header names the columns in any order, unknown ones kept; extra cells go back to the free-text column', () => {
    const t = parsePipeTable('B|NAME|A|NEW\n2|x|y|1|z\n', opts);
    expect(t.hadHeader).toBe(true);
    expect(t.columns).toEqual(['B', 'NAME', 'A', 'NEW']);
    expect(Object.fromEntries(t.rows[0]!.cells)).toEqual({ B: '2', NAME: 'x|y', A: '1', NEW: 'z' });
    const plain = parsePipeTable('1|a|b|c|2\n', opts);
    expect(plain.hadHeader).toBe(false);
    expect(Object.fromEntries(plain.rows[0]!.cells)).toEqual({ A: '1', NAME: 'a|b|c', B: '2' });
    expect(plain.rows[0]!.line).toBe(1);
  });

  it('too few cells names the line', () => {
    expect(() => parsePipeTable('1|a|2\n\n1|a\n', opts)).toThrow(/line 3: 2 fields where 3 were expected/);
  });

  it('lines and field lengths are capped', () => {
    const many = Array.from({ length: 10 }, (_, i) => `${i}|n|b`).join('\n');
    const t = parsePipeTable(many, { ...opts, maxLines: 4 });
    expect(t.rows).toHaveLength(4);
    expect(t.truncated).toBe(true);
    const long = parsePipeTable(`1|${'x'.repeat(SLURM_MAX_FIELD_CHARS + 100)}|2\n`, opts);
    expect(long.rows[0]!.cells.get('NAME')).toHaveLength(SLURM_MAX_FIELD_CHARS);
    expect(boundedLines('a\r\nb\n').lines).toEqual(['a', 'b']);
  });

  it('format letters give the header names', () => {
    expect(columnsFromFormat('%i|%.10T|%Z', { i: 'JOBID', T: 'STATE' })).toEqual(['JOBID', 'STATE', '%Z']);
  });
});

describe('firstNode: the batch host of a node list', () => {
  it('takes the first host of plain and bracketed lists, null for none', () => {
    expect(firstNode('vm')).toBe('vm');
    expect(firstNode('node[01-04],gpu1')).toBe('node01');
    expect(firstNode('gpu[3,5-7]')).toBe('gpu3');
    expect(firstNode('None assigned'.split(' ')[0])).toBeNull();
    expect(firstNode('(null)')).toBeNull();
    expect(firstNode(null)).toBeNull();
  });
});
