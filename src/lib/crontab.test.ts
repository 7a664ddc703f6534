// lib/crontab.ts on realistic crontabs: rendering, idempotent install, removal, listing; and the
// rendered command really runs under /bin/sh as cron would run it.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  cronCommandToShell,
  escapeCronPercent,
  findFlurmLines,
  installLine,
  lockPath,
  parseFlurmLine,
  removeLines,
  renderCommand,
  renderCronLine,
  shQuote,
  splitLines,
  type KeepAliveSpec,
} from './crontab.js';

const agent: KeepAliveSpec = {
  kind: 'agent',
  node: '/opt/node-v20/bin/node',
  cli: '/home/alice/flurm/dist/cli/flurm.cjs',
  user: 'alice',
  logDir: '/home/alice/.local/state/flurm',
  env: [
    ['FLURM_SPOOL', '/home/alice/.flurm'],
    ['FLURM_CLUSTER', '/home/labadmin/.flurm/cluster'],
  ],
};
const hub: KeepAliveSpec = { ...agent, kind: 'hub', config: '/home/labadmin/hub.toml', env: [...agent.env, ['FLURM_CONFIG', '/home/labadmin/hub.toml']] };

// A crontab as users have them: MAILTO, PATH, comments, blank lines, other jobs, an old flurm line.
const EXISTING = [
  '# m h  dom mon dow   command',
  'MAILTO=alice@lab.example',
  'PATH=/usr/local/bin:/usr/bin:/bin',
  '',
  '0 3 * * * /home/alice/bin/backup.sh >/dev/null 2>&1',
  '*/5 * * * * date +\\%s >> /tmp/alice-ticks   # keep',
  '* * * * * flock -n /tmp/flurm-alice-agent.lock /usr/bin/node /old/flurm.cjs agent # flurm:agent',
  '# * * * * * echo disabled # flurm:hub',
  '@reboot /home/alice/bin/on-boot.sh',
].join('\n');

describe('rendering a line', () => {
  it('is every minute, guarded by flock in /tmp, absolute paths, carried env, per-node log, marker', () => {
    const line = renderCronLine(agent);
    expect(line).toBe(
      '* * * * * L=/home/alice/.local/state/flurm/agent-"$(uname -n)".log; ' +
        '[ -z "$(find "$L" -size +10240k 2>/dev/null)" ] || { cp -f "$L" "$L.1"; : >"$L"; }; ' +
        'FLURM_SPOOL=/home/alice/.flurm FLURM_CLUSTER=/home/labadmin/.flurm/cluster ' +
        'flock -n /tmp/flurm-alice-agent.lock /opt/node-v20/bin/node /home/alice/flurm/dist/cli/flurm.cjs agent >>"$L" 2>&1 # flurm:agent',
    );
    expect(line).not.toMatch(/FLURM_HOST/);
  });

  it('the hub line names its config', () => {
    const line = renderCronLine(hub);
    expect(line).toMatch(/FLURM_CONFIG=\/home\/labadmin\/hub\.toml flock -n \/tmp\/flurm-alice-hub\.lock \S+ \S+ hub --config \/home\/labadmin\/hub\.toml >>"\$L" 2>&1 # flurm:hub$/);
    expect(() => renderCronLine({ ...hub, config: undefined })).toThrow(/config/);
  });

  it('quotes odd paths for /bin/sh and escapes % for cron', () => {
    const spec: KeepAliveSpec = { ...agent, node: "/home/o'brien/my node/bin/node", logDir: '/home/x/100%/state', env: [['FLURM_SPOOL', '/home/x/$pool `x`']] };
    const line = renderCronLine(spec);
    expect(line).toContain(`'/home/o'\\''brien/my node/bin/node'`);
    expect(line).toContain(`FLURM_SPOOL='/home/x/$pool \`x\`'`);
    expect(line).toContain("L='/home/x/100\\%/state/agent-'");
    // What cron hands to sh is the unescaped command again.
    expect(parseFlurmLine(line)!.command).toBe(renderCommand(spec));
  });

  it('a lock per user and kind, local /tmp, safe name', () => {
    expect(lockPath('alice', 'agent')).toBe('/tmp/flurm-alice-agent.lock');
    expect(lockPath('weird user/..', 'hub')).toBe('/tmp/flurm-weird_user_..-hub.lock');
  });

  it('shQuote / cron % round trip', () => {
    expect(shQuote('/a/b-c_d.e')).toBe('/a/b-c_d.e');
    expect(shQuote('')).toBe("''");
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
    expect(cronCommandToShell(escapeCronPercent('date +%s; echo 50%'))).toBe('date +%s; echo 50%');
    // An unescaped % ends the command (cron sends the rest to stdin).
    expect(cronCommandToShell('mail -s hi bob%body')).toBe('mail -s hi bob');
    expect(cronCommandToShell('echo a\\b')).toBe('echo a\\b');
  });
});

describe('installing into an existing crontab', () => {
  it('replaces the old flurm agent line in place and keeps everything else exactly', () => {
    const line = renderCronLine(agent);
    const r = installLine(EXISTING + '\n', 'agent', line);
    const before = splitLines(EXISTING);
    const after = splitLines(r.text);
    expect(after).toHaveLength(before.length);
    expect(after[6]).toBe(line);
    expect(after.filter((_, i) => i !== 6)).toEqual(before.filter((_, i) => i !== 6));
    expect(r.replaced).toEqual([before[6]]);
    // The commented-out line with a hub marker is a comment: not flurm's to touch.
    expect(r.text).toContain('# * * * * * echo disabled # flurm:hub\n');
  });

  it('is idempotent: installing twice leaves one line per kind', () => {
    const once = installLine(EXISTING, 'agent', renderCronLine(agent)).text;
    const twice = installLine(once, 'agent', renderCronLine(agent)).text;
    expect(twice).toBe(once);
    const both = installLine(twice, 'hub', renderCronLine(hub)).text;
    const again = installLine(installLine(both, 'hub', renderCronLine(hub)).text, 'agent', renderCronLine(agent)).text;
    expect(again).toBe(both);
    expect(findFlurmLines(again).map((l) => l.kind)).toEqual(['agent', 'hub']);
  });

  it('adds a missing final newline and appends after the last line', () => {
    const text = 'MAILTO=""\n0 * * * * /bin/true'; // last line without its newline
    const r = installLine(text, 'agent', renderCronLine(agent));
    expect(r.text).toBe(`MAILTO=""\n0 * * * * /bin/true\n${renderCronLine(agent)}\n`);
    expect(r.replaced).toEqual([]);
  });

  it('an empty crontab gets just the line', () => {
    expect(installLine('', 'agent', 'L # flurm:agent').text).toBe('L # flurm:agent\n');
  });

  it('drops duplicate flurm lines of the kind, keeps CRLF lines of others as they are', () => {
    const text = 'MAILTO=x\r\n* * * * * a # flurm:agent\n0 0 * * * other\r\n*/2 * * * * b # flurm:agent\n';
    const r = installLine(text, 'agent', 'NEW # flurm:agent');
    expect(r.text).toBe('MAILTO=x\r\nNEW # flurm:agent\n0 0 * * * other\r\n');
    expect(r.replaced).toHaveLength(2);
  });

  it('does not take a line that merely mentions flurm', () => {
    const text = '0 * * * * echo "# flurm:agent is great" >/dev/null\n';
    expect(findFlurmLines(text)).toEqual([]);
    expect(installLine(text, 'agent', 'NEW # flurm:agent').text).toBe(text + 'NEW # flurm:agent\n');
  });
});

describe('listing and removing', () => {
  it('lists flurm lines with kind, schedule, command and lock', () => {
    const text = installLine(installLine(EXISTING, 'agent', renderCronLine(agent)).text, 'hub', renderCronLine(hub)).text;
    const lines = findFlurmLines(text);
    expect(lines.map((l) => [l.kind, l.index, l.schedule, l.lock])).toEqual([
      ['agent', 6, '* * * * *', '/tmp/flurm-alice-agent.lock'],
      ['hub', 9, '* * * * *', '/tmp/flurm-alice-hub.lock'],
    ]);
    expect(lines[0]!.command).toBe(renderCommand(agent));
    expect(lines[0]!.command).not.toContain('# flurm:');
    expect(findFlurmLines(EXISTING)[0]!.lock).toBe('/tmp/flurm-alice-agent.lock');
  });

  it('removes only flurm lines, keeping comments, env lines and other jobs exactly', () => {
    const installed = installLine(installLine(EXISTING, 'agent', renderCronLine(agent)).text, 'hub', renderCronLine(hub)).text;
    const r = removeLines(installed);
    expect(r.removed.map((l) => l.kind)).toEqual(['agent', 'hub']);
    const expected = splitLines(EXISTING).filter((_, i) => i !== 6);
    expect(r.text).toBe(expected.join('\n') + '\n');
    expect(removeLines(installed, ['hub']).removed.map((l) => l.kind)).toEqual(['hub']);
  });

  it('nothing to remove leaves the text untouched (even without a final newline)', () => {
    const text = 'MAILTO=x\n0 * * * * /bin/true';
    expect(removeLines(text)).toEqual({ text, removed: [] });
    expect(removeLines('')).toEqual({ text: '', removed: [] });
  });

  it('a crontab of only flurm lines becomes empty', () => {
    expect(removeLines(renderCronLine(agent) + '\n').text).toBe('');
  });
});

describe('the rendered command under /bin/sh', () => {
  it('logs per node, rotates a log over 10 MB to .1, and runs the command under flock', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-crontab-'));
    try {
      // A stand-in "node" that prints its arguments and the carried env.
      const fakeNode = path.join(dir, 'fake node');
      fs.writeFileSync(fakeNode, '#!/bin/sh\necho "args: $*"; echo "spool: $FLURM_SPOOL"\n', { mode: 0o755 });
      const spec: KeepAliveSpec = { ...agent, node: fakeNode, user: `test-${process.pid}`, logDir: path.join(dir, 'state'), env: [['FLURM_SPOOL', '/sp ool']] };
      fs.mkdirSync(spec.logDir);
      const host = execFileSync('uname', ['-n'], { encoding: 'utf8' }).trim();
      const log = path.join(spec.logDir, `agent-${host}.log`);
      fs.writeFileSync(log, Buffer.alloc(10 * 1024 * 1024 + 1, 'x'));
      const command = parseFlurmLine(renderCronLine(spec))!.command;
      execFileSync('/bin/sh', ['-c', command]);
      expect(fs.statSync(`${log}.1`).size).toBe(10 * 1024 * 1024 + 1);
      expect(fs.readFileSync(log, 'utf8')).toBe(`args: ${agent.cli} agent\nspool: /sp ool\n`);
      execFileSync('/bin/sh', ['-c', command]);
      // Under the limit: appended to, not rotated.
      expect(fs.readFileSync(log, 'utf8')).toBe(`args: ${agent.cli} agent\nspool: /sp ool\n`.repeat(2));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(lockPath(`test-${process.pid}`, 'agent'), { force: true });
    }
  });
});
