import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../lib/errors.js';
import { resolveOutputPaths } from './output-path.js';
import {
  COMMAND_LINE_ONLY,
  SBATCH_OPTIONS,
  SCAN_LIMIT_CHARS,
  effectiveOptions,
  parseSbatchDirectives,
  splitSubmitArgv,
  type SbatchOptions,
  type SubmitArgv,
} from './sbatch-script.js';

const SCRIPTS = path.resolve(import.meta.dirname, '../../../test/fixtures/slurm-scripts');
const fixture = (name: string) => fs.readFileSync(path.join(SCRIPTS, name), 'utf8');

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as Error;
  }
  throw new Error('expected a UserError');
}

/** sbatch passes argv on untouched: the parts put back together are argv again. */
function rejoin(s: SubmitArgv): string[] {
  return [...s.sbatchArgs, ...(s.script === null ? [] : [s.script]), ...s.scriptArgs];
}

describe('splitSubmitArgv', () => {
  // [argv, sbatchArgs length, script, scriptArgs, options]
  const cases: Array<[string, string[], number, string | null, string[], SbatchOptions]> = [
    // sbatch(1) EXAMPLES: "$ sbatch -N4 myscript"
    ['man page: -N4 myscript', ['-N4', 'myscript'], 1, 'myscript', [], { nodes: '4' }],
    // sbatch(1) EXAMPLES: "$ sbatch -N4 <<EOF" — no script: sbatch reads it from stdin
    ['man page: script on stdin', ['-N4'], 1, null, [], { nodes: '4' }],
    ['-o FILE', ['-o', 'out.log', 'run.sh', 'a'], 2, 'run.sh', ['a'], { output: 'out.log' }],
    ['--output=FILE', ['--output=out.log', 'run.sh'], 1, 'run.sh', [], { output: 'out.log' }],
    ['--output FILE', ['--output', 'out.log', 'run.sh'], 2, 'run.sh', [], { output: 'out.log' }],
    ['-oFILE', ['-oout.log', 'run.sh'], 1, 'run.sh', [], { output: 'out.log' }],
    ['--output= (empty value)', ['--output=', 'run.sh'], 1, 'run.sh', [], { output: '' }],
    ['a value that looks like an option is still the value', ['-o', '-x.log', 'run.sh'], 2, 'run.sh', [], { output: '-x.log' }],
    ['a value that is "--"', ['-J', '--', 'run.sh'], 2, 'run.sh', [], { 'job-name': '--' }],
    [
      'the usual value options, separate',
      ['-J', 'n', '-a', '0-9', '-e', 'e.log', '-D', '/w', '-p', 'gpu', '-t', '10', '--mem', '4G', '-c', '2', '-n', '8', '-N', '2', '--gres', 'gpu:1', '-A', 'lab', '-q', 'hi', 'run.sh'],
      26,
      'run.sh',
      [],
      { 'job-name': 'n', array: '0-9', error: 'e.log', chdir: '/w', partition: 'gpu', time: '10', mem: '4G', 'cpus-per-task': '2', ntasks: '8', nodes: '2', gres: 'gpu:1', account: 'lab', qos: 'hi' },
    ],
    [
      'the same, long and attached',
      ['--job-name=n', '--array=0-9', '--error=e.log', '--chdir=/w', '--partition=gpu', '--time=10', '--mem=4G', '--cpus-per-task=2', '--ntasks=8', '--nodes=2', '--gres=gpu:1', '--account=lab', '--qos=hi', 'run.sh'],
      13,
      'run.sh',
      [],
      { 'job-name': 'n', array: '0-9', error: 'e.log', chdir: '/w', partition: 'gpu', time: '10', mem: '4G', 'cpus-per-task': '2', ntasks: '8', nodes: '2', gres: 'gpu:1', account: 'lab', qos: 'hi' },
    ],
    [
      'flags take no value',
      ['--parsable', '-H', '--hold', '--wait', '-W', '--requeue', '--exclusive', 'run.sh', 'x'],
      7,
      'run.sh',
      ['x'],
      { parsable: true, hold: true, wait: true, requeue: true, exclusive: true },
    ],
    // sbatch(1): --exclusive[={user|mcs|topo}]: an optional value is only ever attached.
    ['--exclusive user: "user" is the script', ['--exclusive', 'user'], 1, 'user', [], { exclusive: true }],
    ['--exclusive=user', ['--exclusive=user', 'run.sh'], 1, 'run.sh', [], { exclusive: 'user' }],
    ['-k (optional value) then the script', ['-k', 'run.sh'], 1, 'run.sh', [], { 'no-kill': true }],
    ['-koff', ['-koff', 'run.sh'], 1, 'run.sh', [], { 'no-kill': 'off' }],
    ['clustered short flags', ['-HWQ', 'run.sh'], 1, 'run.sh', [], { hold: true, wait: true, quiet: true }],
    ['a flag cluster ending in a value option', ['-Ho', 'out.log', 'run.sh'], 2, 'run.sh', [], { hold: true, output: 'out.log' }],
    ['a flag cluster with an attached value', ['-HoFILE', 'run.sh'], 1, 'run.sh', [], { hold: true, output: 'FILE' }],
    ['-- ends the options', ['-p', 'gpu', '--', '-odd-name.sh', '-o', 'x'], 3, '-odd-name.sh', ['-o', 'x'], { partition: 'gpu' }],
    ['a lone "-" is a non-option', ['-N1', '-', 'a'], 1, '-', ['a'], { nodes: '1' }],
    ['script arguments that look like sbatch options are the script\'s', ['train.sh', '-o', 'x', '--wrap', 'y', '-J'], 0, 'train.sh', ['-o', 'x', '--wrap', 'y', '-J'], {}],
    ['the last occurrence wins', ['-J', 'a', '--job-name=b', 'run.sh'], 3, 'run.sh', [], { 'job-name': 'b' }],
    // getopt_long abbreviations; sbatch 22.05 took --out=… --job=abbr.
    ['unambiguous abbreviations', ['--out=o.log', '--job', 'abbr', '--parsa', 'run.sh'], 4, 'run.sh', [], { output: 'o.log', 'job-name': 'abbr', parsable: true }],
    ['aliases are stored under the option they stand for', ['--cluster=c1', '--tasks-per-node=2', 'run.sh'], 2, 'run.sh', [], { clusters: 'c1', 'ntasks-per-node': '2' }],
    ['exact name beats a longer one (--mem, --mem-per-cpu)', ['--mem', '1G', 'run.sh'], 2, 'run.sh', [], { mem: '1G' }],
  ];
  it.each(cases)('%s', (_name, argv, nOpts, script, scriptArgs, options) => {
    const got = splitSubmitArgv(argv);
    expect(got.sbatchArgs).toEqual(argv.slice(0, nOpts));
    expect(got.script).toBe(script);
    expect(got.scriptArgs).toEqual(scriptArgs);
    expect(got.options).toEqual(options);
    expect(got.wrap).toBeNull();
    expect(rejoin(got)).toEqual(argv);
  });

  it('--wrap: no script; the job is the command', () => {
    for (const argv of [['--wrap=python train.py', '-o', 'x.log'], ['--wrap', 'python train.py', '-o', 'x.log'], ['-o', 'x.log', '--wrap="python train.py"']]) {
      const got = splitSubmitArgv(argv);
      expect(got.script).toBeNull();
      expect(got.scriptArgs).toEqual([]);
      expect(got.sbatchArgs).toEqual(argv);
      expect(got.options.output).toBe('x.log');
    }
    expect(splitSubmitArgv(['--wrap=python train.py']).wrap).toBe('python train.py');
    // The shell would have removed those quotes; sbatch gets them and so do we.
    expect(splitSubmitArgv(['--wrap="python train.py"']).wrap).toBe('"python train.py"');
  });

  it('heterogeneous job: ":" separates the components (sbatch(1) EXAMPLES)', () => {
    // "$ sbatch -w node[2-3] : -w node4 : -w node[5-7] work.bash"
    const argv = ['-w', 'node[2-3]', ':', '-w', 'node4', ':', '-w', 'node[5-7]', 'work.bash'];
    const got = splitSubmitArgv(argv);
    expect(got.script).toBe('work.bash');
    expect(got.components).toEqual([{ nodelist: 'node[2-3]' }, { nodelist: 'node4' }, { nodelist: 'node[5-7]' }]);
    expect(got.options).toEqual({ nodelist: 'node[2-3]' });
    expect(rejoin(got)).toEqual(argv);
  });

  it('every sbatch option that takes a value takes the next argument, never the script', () => {
    for (const o of SBATCH_OPTIONS) {
      if (o.arg !== 'required' || o.long === 'wrap') continue; // --wrap: no script at all (above)
      const long = splitSubmitArgv([`--${o.long}`, 'VALUE', 'run.sh', 'arg']);
      expect([o.long, long.script, long.scriptArgs, long.options[o.key]]).toEqual([o.long, 'run.sh', ['arg'], 'VALUE']);
      if (o.short) {
        const short = splitSubmitArgv([`-${o.short}`, 'VALUE', 'run.sh']);
        expect([o.short, short.script, short.options[o.key]]).toEqual([o.short, 'run.sh', 'VALUE']);
      }
    }
  });

  it('a flag or an optional value never takes the next argument', () => {
    for (const o of SBATCH_OPTIONS) {
      if (o.arg === 'required') continue;
      const got = splitSubmitArgv([`--${o.long}`, 'run.sh']);
      expect([o.long, got.script, got.options[o.key]]).toEqual([o.long, 'run.sh', true]);
    }
  });

  it('knows the short options of sbatch 26.11 (slurm_opt.c), and only those', () => {
    const shorts = SBATCH_OPTIONS.filter((o) => o.short).map((o) => `${o.short}${o.arg === 'required' ? ':' : o.arg === 'optional' ? '::' : ''}`);
    // The getopt string slurm_option_table_create() builds for sbatch, sorted.
    const expected = 'A: B: C: D: F: G: H J: L: M: N: O Q S: V W a: b: c: d: e: h i: k:: m: n: o: p: q: s t: v w: x:'.split(' ');
    expect(shorts.sort()).toEqual(expected.sort());
  });

  const refused: Array<[string, string[], RegExp]> = [
    // sbatch 22.05: "option '--par' is ambiguous; possibilities: '--parsable' '--partition'"
    ['ambiguous abbreviation', ['--par', 'run.sh'], /--par is ambiguous \(--parsable, --partition\)/],
    ['ambiguous with a value', ['--clust=x', 'run.sh'], /--clust is ambiguous/],
    // sbatch 22.05: "option '--wrap' requires an argument"
    ['missing value (long)', ['--wrap'], /--wrap needs a value/],
    ['missing value (short)', ['run', '-o'].slice(1), /-o \(--output\) needs a value/],
    ['a flag given a value', ['--parsable=yes', 'run.sh'], /--parsable takes no value/],
    ['an unknown short option', ['-X', 'run.sh'], /sbatch has no option -X/],
    ['an unknown short option in a cluster', ['-HX', 'run.sh'], /no option -X \(in "-HX"\)/],
    // sbatch 22.05: "Script arguments not permitted with --wrap option"
    ['--wrap with a script', ['--wrap=hostname', 'run.sh'], /does not take a script or script arguments with --wrap \(got "run.sh"\)/],
  ];
  it.each(refused)('refuses %s, naming the option', (_name, argv, message) => {
    expect(errorOf(() => splitSubmitArgv(argv)).message).toMatch(message);
  });

  it('SPANK plugin options: kept and listed; declare them to have their value read right', () => {
    const attached = splitSubmitArgv(['--container-image=nvcr.io/pytorch:24.01', 'run.sh']);
    expect(attached.script).toBe('run.sh');
    expect(attached.unknownOptions).toEqual(['--container-image=nvcr.io/pytorch:24.01']);
    // Undeclared, "--container-image IMG" cannot be told from a flag: IMG looks like the script.
    expect(splitSubmitArgv(['--container-image', 'img', 'run.sh']).script).toBe('img');
    const declared = splitSubmitArgv(['--container-image', 'img', '--container-mounts=/data', 'run.sh'], {
      extraOptions: [
        { long: 'container-image', arg: 'required' },
        { long: 'container-mounts', arg: 'required' },
      ],
    });
    expect(declared.script).toBe('run.sh');
    expect(declared.unknownOptions).toEqual(['--container-image', 'img', '--container-mounts=/data']);
    expect(declared.options).toEqual({});
  });
});

describe('parseSbatchDirectives on real job scripts (test/fixtures/slurm-scripts)', () => {
  // Each fixture was also submitted to sbatch 22.05 (held with -H, then cancelled) and the job's
  // JobName/StdOut/StdErr compared: see the last describe block.
  it('pytorch-train.sh: several options on one line, a trailing comment', () => {
    const got = parseSbatchDirectives(fixture('pytorch-train.sh'));
    expect(got.options).toEqual({
      'job-name': 'resnet50-ft',
      partition: 'gpu',
      gres: 'gpu:2',
      output: 'logs/%x-%j.out',
      'cpus-per-task': '16',
      mem: '64G',
      time: '1-12:00:00',
      'mail-type': 'END,FAIL',
    });
    expect(got.directives.map((d) => d.line)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(got.directives[2]).toEqual({ line: 6, args: ['--gres=gpu:2', '--output=logs/%x-%j.out'], component: 0 });
    expect(got.ignored).toEqual([]);
    expect(got.warnings).toEqual([]);
    expect(got.rejected).toBeNull();
    expect(got.truncated).toBe(false);
  });

  it('array-sweep.sh', () => {
    const got = parseSbatchDirectives(fixture('array-sweep.sh'));
    expect(got.options).toEqual({
      'job-name': 'sweep',
      array: '0-15%4',
      output: 'logs/sweep_%A_%3a.out',
      error: 'logs/sweep_%A_%3a.err',
      'cpus-per-task': '4',
      'mem-per-cpu': '2G',
      time: '02:00:00',
    });
  });

  it('directive-after-command.sh: sbatch stops at the first command', () => {
    // sbatch(1): "Once the first non-comment, non-whitespace line has been reached in the script,
    // no more #SBATCH directives will be processed." (sbatch 22.05: StdOut=slurm-<id>.out)
    const got = parseSbatchDirectives(fixture('directive-after-command.sh'));
    expect(got.options).toEqual({ 'job-name': 'late', time: '00:10:00' });
    expect(got.ignored).toEqual([
      { line: 6, text: '#SBATCH --mem=32G', reason: 'after-command' },
      { line: 7, text: '#SBATCH --output=never-used-%j.log', reason: 'after-command' },
    ]);
  });

  it('indented-directive.sh: #SBATCH must start the line; ##SBATCH and "# SBATCH" are comments', () => {
    const got = parseSbatchDirectives(fixture('indented-directive.sh'));
    expect(got.options).toEqual({ 'job-name': 'indented', ntasks: '1' });
    expect(got.ignored).toEqual([
      { line: 3, text: '#SBATCH --mem=64G', reason: 'indented' },
      { line: 4, text: '#SBATCH --output=tab-%j.log', reason: 'indented' },
    ]);
  });

  it('crlf.sh: read, but sbatch refuses DOS line breaks', () => {
    // sbatch 22.05: "Batch script contains DOS line breaks (\r\n) instead of expected UNIX line breaks (\n)."
    const text = fixture('crlf.sh');
    expect(text).toContain('\r\n');
    const got = parseSbatchDirectives(text);
    expect(got.rejected).toMatch(/DOS line breaks/);
    expect(got.options).toEqual({ 'job-name': 'from-windows', output: 'win-%j.log', time: '5' });
  });

  it('quoting.sh: quotes, comments, several options a line', () => {
    const got = parseSbatchDirectives(fixture('quoting.sh'));
    expect(got.options).toEqual({
      'job-name': 'two words',
      comment: 'has # inside',
      partition: 'debug',
      output: 'out dir/%x-%j.log',
      nodes: '1',
      ntasks: '4',
      exclusive: true,
      requeue: true,
    });
  });

  it('hetjob.sh: "#SBATCH hetjob" starts the next component', () => {
    const got = parseSbatchDirectives(fixture('hetjob.sh'));
    expect(got.components).toEqual([
      { 'job-name': 'het', output: 'het-%j.out', nodes: '1', 'cpus-per-task': '1' },
      { nodes: '2', output: 'ignored-for-batch-%j.out' },
    ]);
    expect(got.options).toBe(got.components[0]);
  });
});

describe('parseSbatchDirectives: sbatch get_argument() rules', () => {
  const script = (...lines: string[]) => ['#!/bin/bash', ...lines, 'srun true', ''].join('\n');
  const cases: Array<[string, string[], SbatchOptions]> = [
    ['several options on a line', ['#SBATCH -o a.log -J x --mem=1G'], { output: 'a.log', 'job-name': 'x', mem: '1G' }],
    ['a value on the next directive line (one argument list, as sbatch)', ['#SBATCH -o', '#SBATCH nextline.log'], { output: 'nextline.log' }],
    ['quotes inside a word', ['#SBATCH --job-name="a b"c\'d e\''], { 'job-name': 'a bcd e' }],
    ['# inside quotes is kept', ['#SBATCH --comment="x # y"'], { comment: 'x # y' }],
    ['an unquoted # ends the line, even inside a word', ['#SBATCH --mem=4G#c -J m'], { mem: '4G' }],
    ['a quote in a comment does not matter', ["#SBATCH -J x # it's fine"], { 'job-name': 'x' }],
    // sbatch 22.05: --comment=a\"b\#c → Comment=a"b#c
    ['backslash makes the next character literal', ['#SBATCH --comment=a\\"b\\#c -J esc'], { comment: 'a"b#c', 'job-name': 'esc' }],
    // Slurm 24.05+ (d44b67f7be "Add support for '\ ' space escape in #SBATCH options").
    ['backslash-space is a space', ['#SBATCH --job-name=a\\ b'], { 'job-name': 'a b' }],
    ['tabs separate too', ['#SBATCH\t-J\tt'], { 'job-name': 't' }],
    ['no space after #SBATCH', ['#SBATCH--job-name=tight'], { 'job-name': 'tight' }],
    ['blank lines and comments before do not stop the scan', ['', '# comment', '   ', '#SBATCH -J afterblank'], { 'job-name': 'afterblank' }],
    ['a bare #SBATCH line', ['#SBATCH', '#SBATCH -J x'], { 'job-name': 'x' }],
    ['the last one wins', ['#SBATCH -J one', '#SBATCH -J two'], { 'job-name': 'two' }],
    ['abbreviations, as on the command line', ['#SBATCH --job=abbr --out=ab-%j.log'], { 'job-name': 'abbr', output: 'ab-%j.log' }],
    ['"--" alone ends the options', ['#SBATCH -J x --'], { 'job-name': 'x' }],
  ];
  it.each(cases)('%s', (_name, lines, options) => {
    expect(parseSbatchDirectives(script(...lines)).options).toEqual(options);
  });

  it('#SLURM is still read, with a warning (sbatch: "Change from #SLURM to #SBATCH in your script")', () => {
    const got = parseSbatchDirectives(script('#SLURM -J oldstyle'));
    expect(got.options).toEqual({ 'job-name': 'oldstyle' });
    expect(got.warnings).toEqual([expect.stringMatching(/line 2: "#SLURM" is an old spelling/)]);
  });

  it('command-line-only options are skipped in a script, with a warning', () => {
    // sbatch 22.05: "#SBATCH --wrap=hostname -J w" → JobName=w, the script runs; -v prints nothing.
    const got = parseSbatchDirectives(script('#SBATCH --wrap=hostname -J w -v'));
    expect(got.options).toEqual({ 'job-name': 'w' });
    expect(got.warnings).toEqual([expect.stringMatching(/--wrap is ignored/), expect.stringMatching(/--verbose is ignored/)]);
    expect([...COMMAND_LINE_ONLY].sort()).toEqual(['help', 'quiet', 'usage', 'verbose', 'version', 'wrap']);
  });

  it('#PBS lines: a warning that sbatch translates them', () => {
    const got = parseSbatchDirectives(script('#PBS -N pbsname', '#SBATCH -J x'));
    expect(got.warnings).toEqual([expect.stringMatching(/#PBS lines: sbatch translates them/)]);
  });

  const refused: Array<[string, string[], RegExp]> = [
    // sbatch 22.05: "Invalid directive found in batch script: with"
    ['a word that is not an option', ['#SBATCH -J x', '#SBATCH --output=a b'], /line 3: #SBATCH "b" is not an option/],
    ['a word after "--"', ['#SBATCH -- -J x'], /line 2: #SBATCH "-J" is not an option/],
    // sbatch 22.05: "t.sh: line 2: Unmatched `\"` in [ \"unterminated]"
    ['an unmatched quote', ['#SBATCH -J "unterminated'], /line 2: unmatched " in an #SBATCH line/],
    // sbatch 22.05: "t.sh: line 2: Unexpected `:` in [ : -N2]"
    ['a ":" (the command-line hetjob separator)', ['#SBATCH -N1 : -N2'], /line 2: unexpected ":"/],
    // sbatch 22.05: 'option requires an argument -- 'J'' — an empty "" ends the line, as in sbatch.
    ['an empty quoted value', ['#SBATCH -J "" -o x.log'], /line 2: #SBATCH sbatch option -J \(--job-name\) needs a value/],
    ['an unknown short option', ['#SBATCH -X'], /line 2: #SBATCH sbatch has no option -X/],
    // A comment starting "#SLURM" is a directive to sbatch.
    ['a "#SLURM…" comment', ['#SLURM_JOB_ID is set by Slurm'], /line 2: #SBATCH "_JOB_ID" is not an option/],
  ];
  it.each(refused)('refuses %s, naming the line', (_name, lines, message) => {
    expect(errorOf(() => parseSbatchDirectives(script(...lines))).message).toMatch(message);
  });

  it('says why sbatch would refuse the script', () => {
    expect(parseSbatchDirectives('').rejected).toMatch(/empty/);
    expect(parseSbatchDirectives(' \n\t\n').rejected).toMatch(/only whitespace/);
    // sbatch 22.05: "This does not look like a batch script. The first line must start with #! ..."
    expect(parseSbatchDirectives('#SBATCH -J noshebang\ntrue\n').rejected).toMatch(/must start with #!/);
    expect(parseSbatchDirectives('\uFEFF#!/bin/sh\ntrue\n').rejected).toMatch(/must start with #!/);
    expect(parseSbatchDirectives('#!/bin/sh\ntrue\0\n').rejected).toMatch(/NUL/);
    expect(parseSbatchDirectives('#!/bin/sh\ntrue\n').rejected).toBeNull();
  });

  it('is bounded: a huge script is read only to the scan limit', () => {
    const body = 'echo x\n'.repeat(2_000_000); // 14 MB
    const t0 = performance.now();
    const got = parseSbatchDirectives(`#!/bin/bash\n#SBATCH -J big\n${body}#SBATCH -J late\n`);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(got.options).toEqual({ 'job-name': 'big' });
    expect(got.truncated).toBe(false);
  });

  it('says when the limit cut the leading comment block (directives may be missing)', () => {
    const header = '#!/bin/bash\n' + '# padding\n'.repeat(100) + '#SBATCH -J deep\n';
    const got = parseSbatchDirectives(header + 'true\n', { maxChars: 500 });
    expect(got.truncated).toBe(true);
    expect(got.options).toEqual({});
    const whole = parseSbatchDirectives(header + 'true\n');
    expect([whole.truncated, whole.options]).toEqual([false, { 'job-name': 'deep' }]);
    // A directive cut in the middle of its line is not read half.
    const cut = parseSbatchDirectives('#!/bin/sh\n#SBATCH --job-name=abcdef\n', { maxChars: 28 });
    expect([cut.options, cut.truncated]).toEqual([{}, true]);
    expect(SCAN_LIMIT_CHARS).toBe(256 * 1024);
  });
});

describe('effectiveOptions', () => {
  // sbatch(1), INPUT ENVIRONMENT VARIABLES: "NOTE: Environment variables will override any options
  // set in a batch script, and command line options will override any environment variables."
  // sbatch 22.05: SBATCH_JOB_NAME=envname beat "#SBATCH -J sweep"; -J cli beat SBATCH_JOB_NAME.
  const cases: Array<[string, SbatchOptions, Record<string, string>, SbatchOptions, string, string]> = [
    ['script only', { 'job-name': 'sweep' }, {}, {}, 'sweep', 'script'],
    ['env beats script', { 'job-name': 'sweep' }, { SBATCH_JOB_NAME: 'envname' }, {}, 'envname', 'env'],
    ['command line beats env', { 'job-name': 'sweep' }, { SBATCH_JOB_NAME: 'envname' }, { 'job-name': 'cli' }, 'cli', 'command-line'],
    ['command line beats script', { 'job-name': 'sweep' }, {}, { 'job-name': 'cli' }, 'cli', 'command-line'],
  ];
  it.each(cases)('%s', (_name, directives, env, cli, jobName, source) => {
    const got = effectiveOptions(directives, cli, { env, script: 'array-sweep.sh' });
    expect(got.jobName).toBe(jobName);
    expect(got.sources['job-name']).toBe(source);
  });

  it('the output, array and chdir variables', () => {
    // sbatch 22.05: SBATCH_OUTPUT=env-%j.out SBATCH_ARRAY_INX=2-4 sbatch array-sweep.sh →
    // StdOut=…/env-<id>.out, ArrayTaskId=2-4, StdErr from the script's -e.
    const d = parseSbatchDirectives(fixture('array-sweep.sh')).options;
    const got = effectiveOptions(d, {}, { env: { SBATCH_OUTPUT: 'env-%j.out', SBATCH_ARRAY_INX: '2-4' }, script: 'array-sweep.sh' });
    expect([got.output, got.error, got.array]).toEqual(['env-%j.out', 'logs/sweep_%A_%3a.err', '2-4']);
    expect(got.envNames).toEqual({ output: 'SBATCH_OUTPUT', array: 'SBATCH_ARRAY_INX' });
    const cli = effectiveOptions(d, { output: 'cli-%j.out' }, { env: { SBATCH_OUTPUT: 'env-%j.out' } });
    expect([cli.output, cli.sources.output, cli.envNames.output]).toEqual(['cli-%j.out', 'command-line', undefined]);
    // An empty value is taken as unset.
    expect(effectiveOptions({ output: 'a' }, {}, { env: { SBATCH_OUTPUT: '' } }).output).toBe('a');
  });

  it('flag variables: empty, "yes" or a non-zero number set the flag; anything else clears it, even from the script', () => {
    for (const v of ['', 'yes', 'YES', '1', '2', '-1', ' 3']) expect([v, effectiveOptions({}, {}, { env: { SBATCH_WAIT: v } }).options.wait]).toEqual([v, true]);
    for (const v of ['no', '0', 'true', '1 ', 'x']) {
      const got = effectiveOptions({ wait: true }, {}, { env: { SBATCH_WAIT: v } });
      expect([v, got.options.wait, got.sources.wait]).toEqual([v, undefined, undefined]);
    }
    // The command line still wins.
    expect(effectiveOptions({}, { wait: true }, { env: { SBATCH_WAIT: 'no' } }).options.wait).toBe(true);
  });

  it('optional-value variables: empty means the bare option', () => {
    expect(effectiveOptions({}, {}, { env: { SBATCH_EXCLUSIVE: '' } }).options.exclusive).toBe(true);
    expect(effectiveOptions({}, {}, { env: { SBATCH_EXCLUSIVE: 'user' } }).options.exclusive).toBe('user');
  });

  it('the later of two variables for one option wins, in sbatch order', () => {
    expect(effectiveOptions({}, {}, { env: { SBATCH_CLUSTERS: 'a', SLURM_CLUSTERS: 'b' } }).options.clusters).toBe('b');
    expect(effectiveOptions({}, {}, { env: { SLURM_HINT: 'a', SBATCH_HINT: 'b' } }).options.hint).toBe('b');
  });

  it('ignores undocumented and unrelated variables', () => {
    const got = effectiveOptions({}, {}, { env: { SBATCH_ERRORS: 'x', SLURM_JOB_NAME: 'inside-a-job', SBATCH_CPU_FREQ_REQ: 'low', SBATCH_DEBUG: '2' } });
    expect(got.options).toEqual({});
  });

  // sbatch(1), -J: 'The default is the name of the batch script, or just "sbatch" if the script is
  // read on sbatch's standard input.' sbatch 22.05: --wrap → JobName=wrap; stdin → JobName=sbatch.
  const names: Array<[string, SbatchOptions, string | null, string]> = [
    ['the script base name', {}, '/home/ada/jobs/train.sh', 'train.sh'],
    ['a relative script', {}, 'jobs/train.sh', 'train.sh'],
    ['--wrap', { wrap: 'python x.py' }, null, 'wrap'],
    ['--external', { external: true }, null, 'external'],
    ['stdin', {}, null, 'sbatch'],
    ['-J wins over all', { wrap: 'x', 'job-name': 'mine' }, null, 'mine'],
  ];
  it.each(names)('job name: %s', (_name, cli, script, jobName) => {
    expect(effectiveOptions({}, cli, { script }).jobName).toBe(jobName);
  });

  it('a --wrap that reached it from a script is dropped (sbatch reads --wrap from its command line only)', () => {
    const got = effectiveOptions({ wrap: 'x' } as SbatchOptions, {}, { script: 'run.sh' });
    expect([got.wrap, got.jobName, got.options.wrap]).toEqual([null, 'run.sh', undefined]);
  });
});

describe('from argv and script to the output file (checked against sbatch 22.05)', () => {
  const cwd = '/tmp/flurm-sbatch-check';
  function plan(argv: string[], scriptText: string | null, env: Record<string, string>, jobId: number) {
    const split = splitSubmitArgv(argv);
    const directives = scriptText === null ? {} : parseSbatchDirectives(scriptText).options;
    const eff = effectiveOptions(directives, split.options, { env, script: split.script });
    const out = resolveOutputPaths(eff, { jobId, arrayTaskId: eff.array ? undefined : null, arrayJobId: eff.array ? jobId : undefined, jobName: eff.jobName, user: 'root', submitDir: cwd });
    return { name: eff.jobName, stdout: out.stdout.path, stderr: out.stderr.path };
  }
  // [argv, fixture, env, job id, JobName, StdOut, StdErr] as `scontrol show job` printed them. For
  // the array record scontrol leaves %3a as it is, as we do while the task id is pending.
  const cases: Array<[string[], string | null, Record<string, string>, number, string, string, string]> = [
    [['-H', '-p', 'debug', '--gres=none', '--mem=100M', 'pytorch-train.sh', '--epochs', '1'], 'pytorch-train.sh', {}, 50, 'resnet50-ft', `${cwd}/logs/resnet50-ft-50.out`, `${cwd}/logs/resnet50-ft-50.out`],
    [['-H', '-p', 'debug', '--gres=none', '--mem=1M', '--job-name', 'sep', 'pytorch-train.sh', 'a', 'b'], 'pytorch-train.sh', {}, 73, 'sep', `${cwd}/logs/sep-73.out`, `${cwd}/logs/sep-73.out`],
    [['-H', '-o', 'out-%x-%j-%u.log', '--wrap', 'echo hi'], null, {}, 51, 'wrap', `${cwd}/out-wrap-51-root.log`, `${cwd}/out-wrap-51-root.log`],
    [['-H', '--out=abbrev-%j.log', '--job=abbr', '--wrap', 'true'], null, {}, 54, 'abbr', `${cwd}/abbrev-54.log`, `${cwd}/abbrev-54.log`],
    [['-H', '-o', 'none', '--wrap', 'true'], null, {}, 55, 'wrap', '/dev/null', '/dev/null'],
    [['-H', '-D', 'sub', '-o', 'rel-%j.log', '--wrap', 'true'], null, {}, 56, 'wrap', `${cwd}/sub/rel-56.log`, `${cwd}/sub/rel-56.log`],
    [['-H', '-D', 'sub', '--wrap', 'true'], null, {}, 57, 'wrap', `${cwd}/sub/slurm-57.out`, `${cwd}/sub/slurm-57.out`],
    [['-H', '-e', 'err-%j.log', '--wrap', 'true'], null, {}, 58, 'wrap', `${cwd}/slurm-58.out`, `${cwd}/err-58.log`],
    [['-H', 'directive-after-command.sh'], 'directive-after-command.sh', {}, 62, 'late', `${cwd}/slurm-62.out`, `${cwd}/slurm-62.out`],
    [['-H', 'indented-directive.sh'], 'indented-directive.sh', {}, 63, 'indented', `${cwd}/slurm-63.out`, `${cwd}/slurm-63.out`],
    [['-H', 'quoting.sh'], 'quoting.sh', {}, 67, 'two words', `${cwd}/out dir/two words-67.log`, `${cwd}/out dir/two words-67.log`],
    [['-H', 'hetjob.sh'], 'hetjob.sh', {}, 64, 'het', `${cwd}/het-64.out`, `${cwd}/het-64.out`],
    [['-H', '-p', 'debug'], null, {}, 74, 'sbatch', `${cwd}/slurm-74.out`, `${cwd}/slurm-74.out`],
    [['-H', 'array-sweep.sh'], 'array-sweep.sh', { SBATCH_OUTPUT: 'env-%j.out', SBATCH_ARRAY_INX: '2-4' }, 70, 'sweep', `${cwd}/env-70.out`, `${cwd}/logs/sweep_70_%3a.err`],
  ];
  it.each(cases)('sbatch %j', (argv, name, env, jobId, jobName, stdout, stderr) => {
    expect(plan(argv, name === null ? null : fixture(name), env, jobId)).toEqual({ name: jobName, stdout, stderr });
  });
});
