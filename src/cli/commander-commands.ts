// Every command except the fast-path ones (see fast-commands.ts), declared with commander. Each
// action imports its module only when that command runs.
import { Command, InvalidArgumentError, Option } from 'commander';
import { packageVersion } from './version.js';
import { addQueryCommands } from './query.js';

export async function runCommander(argv: string[]): Promise<number> {
  // `flurm submit`: everything after flurm's own options is sbatch's, untouched; commander would
  // parse (and mangle) those, so the command reads its argv itself.
  if (argv[0] === 'submit') return (await import('./commands/submit.js')).run(argv.slice(1));
  let code = 0;
  const program = new Command('flurm')
    .description('Job notifications and cluster awareness for research labs.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    // Before the subcommands are declared, so they inherit it: usage errors come back as
    // exceptions and leave with exit 2 from here, never process.exit inside commander.
    .exitOverride()
    .addHelpText(
      'after',
      `
Fast commands (see 'flurm run --help'):
  run [options] -- CMD [ARGS...]   run a job and be told when it ends
  notify [-t TITLE] MESSAGE        send an ad-hoc note from a script
  watch PID                        be told when a process already running here ends
  watch --slurm JOBID              be told when a SLURM job submitted with plain sbatch ends

SLURM (see 'flurm submit --help'):
  submit [options] [--] [SBATCH ARGS...] SCRIPT [ARGS...]
                                   sbatch, and be told when the job ends`,
    );

  program
    .command('shell-init')
    .description('print a bash function (flurm_run, flurm_notify) that writes flurm events with no Node on the node')
    .argument('<shell>', 'only "bash" for now')
    .action(async (shell: string) => {
      const m = await import('./commands/shell-init.js');
      code = await m.run({ shell });
    });

  program
    .command('hub')
    .description('run the hub: ingest every user\'s spool, keep the index, send notifications, serve the API')
    .requiredOption('-c, --config <file>', 'hub config file (TOML)', process.env.FLURM_CONFIG)
    .option('--once', 'ingest and deliver once, then exit (for cron and tests)')
    .action(async (opts: { config: string; once?: boolean }) => {
      const m = await import('./commands/hub.js');
      code = await m.run(opts);
    });

  program
    .command('up')
    .description('everything on this workstation, no configuration: hub + your spool, embedded defaults')
    .option('-p, --port <n>', 'HTTP port on localhost (0 picks a free one)', (v) => parsePort(v))
    .option('--to <url>', 'send notifications here (repeatable)', collect, [] as string[])
    .option('--index <file>', 'index database path (default: local disk, never NFS)')
    .action(async (opts: { port?: number; to: string[]; index?: string }) => {
      const m = await import('./commands/up.js');
      code = await m.run(opts);
    });

  // The query commands (status, best, top, inspect, users, queue, jobs): from the command table.
  addQueryCommands(program, (c) => {
    code = c;
  });

  program
    .command('link')
    .description('link your account to your Discord or Slack account: run /link in Discord or /flurm link in Slack, then flurm link CODE (docs/linking.md)')
    .argument('[code...]', 'the code the chat showed you (dashes, blanks and case do not matter)')
    .option('--status', 'show whether you are linked, and to which chat accounts')
    .option('--hub <url>', 'ask this hub (default: from hub.json)')
    .action(async (words: string[], opts: { status?: boolean; hub?: string }) => {
      const m = await import('./commands/link.js');
      code = await m.run({ code: words.length > 0 ? words.join(' ') : undefined, status: opts.status, hub: opts.hub });
    });

  program
    .command('dashboard')
    .description('sign in to the hub\'s dashboard: prints a one-time link (5 minutes, once); --token prints a bearer token for scripts (docs/access.md)')
    .option('--token', 'print a bearer token for the JSON API instead of a sign-in link')
    .option('--hub <url>', 'sign in to this hub (default: from hub.json)')
    .action(async (opts: { token?: boolean; hub?: string }) => {
      const m = await import('./commands/dashboard.js');
      code = await m.run({ token: opts.token, hub: opts.hub });
    });

  program
    .command('unlink')
    .description('end the links `flurm link` made (a link in the hub config stays; in the chat: /unlink, /flurm unlink)')
    .option('--chat <chat>', 'end only this chat\'s link: discord or slack (default: both)')
    .option('--hub <url>', 'ask this hub (default: from hub.json)')
    .action(async (opts: { hub?: string; chat?: string }) => {
      const m = await import('./commands/link.js');
      code = await m.runUnlink({ hub: opts.hub, chat: opts.chat });
    });

  program
    .command('mcp')
    .description('serve the query commands as MCP tools over stdio, for an agent (docs/mcp.md)')
    .option('--hub <url>', 'ask this hub (default: from hub.json)')
    .option('--allow-run', 'also offer run_job: the agent may start jobs on this node as you')
    .action(async (opts: { hub?: string; allowRun?: boolean }) => {
      const m = await import('./commands/mcp.js');
      code = await m.run({ hub: opts.hub, allowRun: opts.allowRun === true });
    });

  program
    .command('doctor')
    .description('check config, spool permissions, hub, index and every destination')
    .option('--send-test', 'send a real test message to every destination')
    .option('-c, --config <file>', 'hub config file to check as well', process.env.FLURM_CONFIG)
    .action(async (opts) => {
      const m = await import('./commands/doctor.js');
      code = await m.run(opts);
    });

  program
    .command('config')
    .description('print the effective configuration, secrets redacted')
    .option('-c, --config <file>', 'hub config file', process.env.FLURM_CONFIG)
    .addOption(new Option('--format <fmt>', 'output format').choices(['toml', 'json']).default('toml'))
    .action(async (opts) => {
      const m = await import('./commands/config.js');
      code = await m.run(opts);
    });

  program
    .command('agent')
    .description('write this node\'s snapshot (load, memory, busy processes, GPUs) to the cluster dir')
    .option('-i, --interval <duration>', 'seconds between snapshots when long-running ("15s", "1m")', '15s')
    .option('--once', 'write one snapshot and exit (for cron)')
    .option('--print', 'print the snapshot as JSON to stdout instead of writing it (used by inspect --live)')
    .option('--cluster <dir>', 'cluster dir (default: as flurm run finds it)')
    .action(async (opts) => {
      const m = await import('./commands/agent.js');
      code = await m.run(opts);
    });

  const cron = program.command('cron').description('keep the agent and hub alive without root: crontab lines guarded by flock');
  cron
    .command('install')
    .description('add crontab lines that start the agent / hub when they are not running')
    .option('--agent', 'keep `flurm agent` running on this node')
    .option('--hub', 'keep `flurm hub` running (needs --config or FLURM_CONFIG)')
    .option('-c, --config <file>', 'hub config file for --hub', process.env.FLURM_CONFIG)
    .option('--print-systemd', 'print a systemd --user unit instead of touching the crontab')
    .action(async (opts) => {
      const m = await import('./commands/cron.js');
      code = await m.run({ ...opts, action: 'install' });
    });
  cron
    .command('status')
    .description('show flurm\'s crontab lines and whether each is running')
    .action(async (opts) => {
      const m = await import('./commands/cron.js');
      code = await m.run({ ...opts, action: 'status' });
    });
  cron
    .command('remove')
    .description('remove flurm\'s crontab lines (others are left alone)')
    .action(async (opts) => {
      const m = await import('./commands/cron.js');
      code = await m.run({ ...opts, action: 'remove' });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (typeof e.exitCode === 'number' && e.code?.startsWith('commander.')) return e.exitCode === 1 ? 2 : e.exitCode;
    throw err;
  }
  return code;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`must be a port number 0..65535, got "${v}"`);
  return n;
}
