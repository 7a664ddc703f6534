import { describe, expect, it } from 'vitest';
import { captureJobs, slurmFixture } from '../../../test/fixtures/slurm/fixtures.js';
import { SlurmParseError } from './fields.js';
import {
  SACCT_FIELDS,
  SACCT_FORMAT,
  arrayTasks,
  cpuEfficiency,
  isSacctDisabled,
  maxRssBytes,
  parseReqMem,
  parseSacct,
  reqMemTotalBytes,
  sacctArgs,
  type SacctJob,
  type SacctResult,
} from './sacct.js';

const ids = captureJobs();
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const final = parseSacct(slurmFixture('sacct-header.txt'));
const job = (r: SacctResult, id: string): SacctJob => {
  const j = r.jobs.get(id);
  if (!j) throw new Error(`no job ${id} in fixture`);
  return j;
};

describe('sacct: the fields flurm asks for', () => {
  it('one constant, as capture.sh ran it', () => {
    expect(SACCT_FORMAT).toBe(SACCT_FIELDS.join(','));
    expect(slurmFixture('capture.sh')).toContain(`SACCT_FIELDS=${SACCT_FORMAT}\n`);
    expect(sacctArgs([34, '39_1'])).toEqual(['--parsable2', '-j', '34,39_1', `--format=${SACCT_FORMAT}`]);
  });

  it('with and without the header line, the same values', () => {
    const plain = parseSacct(slurmFixture('sacct.txt'));
    const strip = (r: SacctResult) => r.rows.map(({ line: _l, fields: _f, ...rest }) => rest);
    expect(strip(plain)).toEqual(strip(final));
    expect(plain.rows).toHaveLength(final.rows.length);
    expect(final.truncated).toBe(false);
  });
});

describe('sacct: real jobs (slurm 22.05.8, test/fixtures/slurm)', () => {
  it('success: COMPLETED 0:0, MaxRSS from the .batch step, CPU efficiency of a 3 s busy loop', () => {
    const j = job(final, ids.ok);
    expect(j.job).toMatchObject({ state: 'COMPLETED', exit: { code: 0, signal: 0 }, name: 'ok', user: ids.submit_user, partition: 'debug', alloc_cpus: 1 });
    expect(j.job!.elapsed_seconds).toBe(3);
    expect(j.job!.time_limit_seconds).toBe(300);
    expect(j.job!.req_mem).toEqual({ bytes: GiB, per: 'job' });
    expect(j.job!.max_rss_bytes).toBeNull(); // only steps carry MaxRSS
    expect(j.batch).toMatchObject({ step: 'batch', state: 'COMPLETED', name: 'batch', user: null });
    // sacct-header.txt, 120.batch: MaxRSS 6572K (K = KiB)
    expect(maxRssBytes(j)).toBe(6572 * 1024);
    expect(j.job!.total_cpu_seconds!).toBeGreaterThan(2);
    expect(cpuEfficiency(j)!).toBeGreaterThan(0.6);
    expect(cpuEfficiency(j)!).toBeLessThanOrEqual(1.2);
    expect(j.extern).toBeNull(); // no PrologFlags=contain on the capture cluster: no .extern step
    expect(j.job!.submit).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(j.job!.end).not.toBeNull();
  });

  it('exit 3: FAILED 3:0 on the job line and the .batch step', () => {
    const j = job(final, ids.exit3);
    expect(j.job).toMatchObject({ state: 'FAILED', exit: { code: 3, signal: 0 }, derived_exit: { code: 0, signal: 0 } });
    expect(j.batch).toMatchObject({ state: 'FAILED', exit: { code: 3, signal: 0 } });
  });

  it('time limit: TIMEOUT, job line 0:0 but .batch CANCELLED 0:15; elapsed past the 1-minute limit', () => {
    const j = job(final, ids.timeout);
    expect(j.job).toMatchObject({ state: 'TIMEOUT', exit: { code: 0, signal: 0 }, time_limit_seconds: 60 });
    expect(j.batch).toMatchObject({ state: 'CANCELLED', by_uid: null, exit: { code: 0, signal: 15 } });
    expect(j.job!.elapsed_seconds!).toBeGreaterThan(60);
  });

  it('scancel: CANCELLED by the owner (uid 1000) and by root (uid 0)', () => {
    expect(job(final, ids.cancel_owner).job).toMatchObject({ state: 'CANCELLED', by_uid: Number(ids.submit_uid), exit: { code: 0, signal: 0 } });
    expect(job(final, ids.cancel_admin).job).toMatchObject({ state: 'CANCELLED', by_uid: 0 });
    expect(job(final, ids.cancel_admin).batch).toMatchObject({ state: 'CANCELLED', exit: { code: 0, signal: 15 } });
  });

  it('killed by a signal: FAILED 0:9, the .batch step CANCELLED 0:9', () => {
    const j = job(final, ids.sigkill);
    expect(j.job).toMatchObject({ state: 'FAILED', exit: { code: 0, signal: 9 } });
    expect(j.batch).toMatchObject({ state: 'CANCELLED', exit: { code: 0, signal: 9 } });
  });

  it('no memory enforcement here: --mem=50M and a 300 MiB process end COMPLETED with MaxRSS > ReqMem', () => {
    const j = job(final, ids.memhog);
    expect(j.job).toMatchObject({ state: 'COMPLETED', req_mem: { bytes: 50 * MiB, per: 'job' } });
    expect(maxRssBytes(j)!).toBeGreaterThan(300 * MiB);
    expect(maxRssBytes(j)).toBe(313632 * 1024); // sacct-header.txt, 122.batch: MaxRSS 313632K
  });

  it('-c 2 --mem-per-cpu=100M: ReqMem is the job total 200M (22.05), one busy CPU of two', () => {
    const j = job(final, ids.percpu);
    expect(j.job).toMatchObject({ alloc_cpus: 2, req_mem: { bytes: 200 * MiB, per: 'job' } });
    expect(j.job!.alloc_tres.get('cpu')).toBe('2');
    expect(reqMemTotalBytes(j.job!)).toBe(200 * MiB);
    expect(cpuEfficiency(j)!).toBeGreaterThan(0.25);
    expect(cpuEfficiency(j)!).toBeLessThan(0.6);
  });

  it('array --array=0-3: four tasks, odd ones exit 1; each task is a job with its own raw id', () => {
    const tasks = arrayTasks(final, Number(ids.array));
    expect(tasks.map((t) => t.job_id)).toEqual([0, 1, 2, 3].map((i) => `${ids.array}_${i}`));
    expect(tasks.map((t) => t.job!.state)).toEqual(['COMPLETED', 'FAILED', 'COMPLETED', 'FAILED']);
    expect(tasks.map((t) => t.job!.exit!.code)).toEqual([0, 1, 0, 1]);
    expect(tasks.map((t) => t.array_task_id)).toEqual([0, 1, 2, 3]);
    expect(tasks.every((t) => t.array_job_id === Number(ids.array) && t.batch !== null)).toBe(true);
    // JobIDRaw: the last task keeps the array's own id; the others get new ids.
    const raws = tasks.map((t) => t.job!.job_id_raw);
    expect(new Set(raws).size).toBe(4);
    expect(raws[3]).toBe(ids.array);
    expect(tasks[1]!.batch!.job_id).toBe(`${ids.array}_1.batch`);
  });

  it('still running, held, and an unsplit held array', () => {
    const running = job(final, ids.running);
    expect(running.job).toMatchObject({ state: 'RUNNING', end: null, total_cpu_seconds: 0 });
    expect(cpuEfficiency(running)).toBeNull();
    expect(running.batch!.max_rss_bytes).toBeNull();
    expect(job(final, ids.held).job).toMatchObject({ state: 'PENDING', reason: 'JobHeldUser', node_list: null, start: null, end: null, alloc_gpus: null });
    const arr = job(final, `${ids.held_array}_[0-3%2]`);
    expect(arr).toMatchObject({ array_job_id: Number(ids.held_array), array_task_id: null });
    expect(arr.job).toMatchObject({ state: 'PENDING', array_task_spec: '0-3%2', job_id_raw: ids.held_array });
    expect(arrayTasks(final, Number(ids.held_array))).toHaveLength(1);
  });

  it('a snapshot while running: the TIMEOUT job was RUNNING, the waiting one PENDING', () => {
    const snap = parseSacct(slurmFixture('sacct-running-header.txt'));
    expect(job(snap, ids.timeout).job).toMatchObject({ state: 'RUNNING', end: null });
    expect(job(snap, ids.waiting).job).toMatchObject({ state: 'PENDING', node_list: null });
    expect(job(final, ids.waiting).job).toMatchObject({ state: 'COMPLETED' });
  });

  it('an unknown id prints nothing (exit 0); accounting off is a message on stderr (exit 1)', () => {
    expect(parseSacct(slurmFixture('sacct-unknown.txt')).jobs.size).toBe(0);
    expect(slurmFixture('sacct-disabled.txt')).toBe('');
    expect(isSacctDisabled(slurmFixture('sacct-disabled.txt.stderr'))).toBe(true);
    expect(slurmFixture('exit-codes.tsv')).toMatch(/^sacct-disabled\.txt\t1\t/m);
    expect(slurmFixture('exit-codes.tsv')).toMatch(/^sacct-unknown\.txt\t0\t/m);
  });
});

describe('sacct: hand-written lines for forms the capture cluster cannot produce', () => {
  const HEADER = 'JobID|JobIDRaw|JobName|State|ExitCode|Elapsed|MaxRSS|ReqMem|AllocCPUS|TotalCPU|NodeList|AllocTRES';

  it('pre-21.08 ReqMem suffixes: 4Gn per node, 100Mc per CPU (hand-written)', () => {
    expect(parseReqMem('4Gn')).toEqual({ bytes: 4 * GiB, per: 'node' });
    expect(parseReqMem('100Mc')).toEqual({ bytes: 100 * MiB, per: 'cpu' });
    expect(parseReqMem('1000M')).toEqual({ bytes: 1000 * MiB, per: 'job' });
    expect(parseReqMem('16000')).toEqual({ bytes: 16000 * MiB, per: 'job' });
    const r = parseSacct(`${HEADER}\n7|7|old|COMPLETED|0:0|00:10:00||4Gc|8|01:00:00|n1|cpu=8,mem=32G,node=2\n8|8|old|COMPLETED|0:0|00:10:00||16Gn|8|01:00:00|n[1-2]|cpu=8,mem=32G,node=2\n`);
    expect(reqMemTotalBytes(r.jobs.get('7')!.job!)).toBe(32 * GiB);
    expect(reqMemTotalBytes(r.jobs.get('8')!.job!)).toBe(32 * GiB);
  });

  it('OUT_OF_MEMORY 0:125, NODE_FAIL, PREEMPTED, an .extern step, a 1-day job, MaxRSS in G (hand-written)', () => {
    const text = [
      HEADER,
      '9001|9001|train|OUT_OF_MEMORY|0:125|1-02:03:04||16G|8|2-01:00:00|gpu01|billing=8,cpu=8,gres/gpu=2,mem=16G,node=1',
      '9001.batch|9001.batch|batch|OUT_OF_MEMORY|0:125|1-02:03:04|15.50G||8|2-01:00:00|gpu01|cpu=8,gres/gpu=2,mem=16G,node=1',
      '9001.extern|9001.extern|extern|COMPLETED|0:0|1-02:03:04|0||8|00:00:00|gpu01|billing=8,cpu=8,gres/gpu=2,mem=16G,node=1',
      '9001.0|9001.0|python|OUT_OF_MEMORY|0:125|1-02:03:00|15.90G||8|2-00:59:00|gpu01|cpu=8,gres/gpu=2,mem=16G,node=1',
      '9002|9002|sim|NODE_FAIL|0:0|00:31:00||4G|4|01:00:00|cn07|cpu=4,mem=4G,node=1',
      '9003|9003|low-prio|PREEMPTED|0:0|00:05:00||4G|4|00:19:00|cn08|cpu=4,mem=4G,node=1',
      '9003.batch|9003.batch|batch|CANCELLED|0:15|00:05:00|1.2G||4|00:19:00|cn08|cpu=4,mem=4G,node=1',
    ].join('\n');
    const r = parseSacct(text);
    const oom = r.jobs.get('9001')!;
    expect(oom.job).toMatchObject({ state: 'OUT_OF_MEMORY', exit: { code: 0, signal: 125 }, elapsed_seconds: 93784, alloc_gpus: 2 });
    expect(oom.extern).toMatchObject({ step: 'extern', state: 'COMPLETED', max_rss_bytes: 0 });
    expect(oom.steps.map((s) => s.step)).toEqual(['0']);
    expect(maxRssBytes(oom)).toBe(Math.round(15.9 * GiB));
    expect(oom.job!.total_cpu_seconds).toBe(2 * 86400 + 3600);
    expect(r.jobs.get('9002')!.job).toMatchObject({ state: 'NODE_FAIL', node_list: 'cn07' });
    expect(r.jobs.get('9003')!.batch).toMatchObject({ state: 'CANCELLED', exit: { code: 0, signal: 15 }, max_rss_bytes: Math.round(1.2 * GiB) });
  });

  it('a job name holding | and extra unknown columns (hand-written)', () => {
    const r = parseSacct('JobID|JobName|State|ExitCode|Account|Comment\n12|a|b name|COMPLETED|0:0|lab|x\n13|None|COMPLETED|0:0||\n');
    expect(r.jobs.get('13')!.job!.name).toBe('None'); // a name, not SLURM's "no value"
    expect(r.jobs.get('12')!.job).toMatchObject({ name: 'a|b name', state: 'COMPLETED' });
    expect(r.rows[0]!.fields.get('Account')).toBe('lab');
    expect(r.rows[0]!.elapsed_seconds).toBeNull(); // not asked for
  });

  it('garbage throws SlurmParseError naming line and field', () => {
    const bad = (text: string, re: RegExp) => {
      expect(() => parseSacct(text)).toThrow(SlurmParseError);
      expect(() => parseSacct(text)).toThrow(re);
    };
    bad(`${HEADER}\n7|7|x|CANCELLED+|0:0|00:01:00||1G|1|00:00:01|n1|cpu=1\n`, /line 2: State: .*--parsable2/);
    bad(`${HEADER}\n7|7|x|COMPLETED|zero|00:01:00||1G|1|00:00:01|n1|cpu=1\n`, /line 2: ExitCode: not an exit code/);
    bad(`${HEADER}\n7|7|x|COMPLETED|0:0|a while||1G|1|00:00:01|n1|cpu=1\n`, /line 2: Elapsed: not a duration/);
    bad(`${HEADER}\n7|7|x|COMPLETED|0:0|00:01:00|big|1G|1|00:00:01|n1|cpu=1\n`, /line 2: MaxRSS: not a size/);
    bad(`${HEADER}\n7|7|x|COMPLETED\n`, /line 2: 4 fields where 12 were expected/);
    bad('<html>Service Unavailable</html>\n', /line 1: .*fields where 20 were expected/);
    bad(`${'1|'.repeat(19)}1\n`, /line 1: State: not a job state/);
    try {
      parseSacct(`${HEADER}\n7|7|x|COMPLETED|0:0|00:01:00||1G|1|00:00:01|n1|cpu=1\n8|8|x|COMPLETED|0:0|00:01:00||1G|x|00:00:01|n1|cpu=1\n`);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SlurmParseError);
      expect((err as SlurmParseError).where).toEqual({ line: 3, field: 'AllocCPUS' });
      expect((err as SlurmParseError).command).toBe('sacct');
    }
  });
});
