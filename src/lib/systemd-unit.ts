// A systemd --user unit that keeps `flurm agent` or `flurm hub` running, as text (pure): the
// alternative to the crontab line where the user's systemd instance is available. Printed by
// `flurm cron install --print-systemd`, never installed by flurm.
import { flurmArgs, type KeepAliveKind } from './crontab.js';

export interface SystemdUnitSpec {
  kind: KeepAliveKind;
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of flurm's executable. */
  cli: string;
  /** Environment= lines, in this order. */
  env: ReadonlyArray<readonly [string, string]>;
  /** The hub's config file (absolute), for kind 'hub'. */
  config?: string;
}

export function unitName(kind: KeepAliveKind): string {
  return `flurm-${kind}.service`;
}

/** `%` starts a specifier in unit files: double it. */
function escapeSpecifiers(s: string): string {
  return s.replace(/%/g, '%%');
}

/** One ExecStart= word: bare when plainly safe, else double-quoted with C-style escapes; `$` doubled. */
export function systemdQuote(word: string): string {
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(word)) return word;
  const inner = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\$/g, '$$$$');
  return `"${escapeSpecifiers(inner)}"`;
}

/** One Environment= assignment, always quoted (Environment= does not expand `$`). */
function environmentLine(name: string, value: string): string {
  const inner = `${name}=${value}`.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `Environment="${escapeSpecifiers(inner)}"`;
}

const DESCRIPTIONS: Record<KeepAliveKind, string> = {
  agent: "flurm agent: this node's snapshot (load, memory, processes, GPUs) for the lab",
  hub: 'flurm hub: ingest spools, send notifications, serve the API',
};

/** The unit file, with a comment header that says where to save it and how to enable it. */
export function renderSystemdUnit(spec: SystemdUnitSpec): string {
  const name = unitName(spec.kind);
  const exec = [spec.node, spec.cli, ...flurmArgs(spec)].map(systemdQuote).join(' ');
  const lines = [
    `# ${name} — keeps \`flurm ${spec.kind}\` running with your own systemd (no root needed).`,
    `# Save as ~/.config/systemd/user/${name}, then:`,
    `#   systemctl --user daemon-reload`,
    `#   systemctl --user enable --now ${name}`,
    `# Check: systemctl --user status ${name}    Logs: journalctl --user -u ${name}`,
    `# Remove: systemctl --user disable --now ${name} && rm ~/.config/systemd/user/${name}`,
    `# Your systemd --user stops when you log out, unless lingering is on:`,
    `#   loginctl enable-linger "$USER"    (on some systems only an admin may run it)`,
    ...(spec.kind === 'hub'
      ? ['# ~/.config is on the shared home: once enabled, every node where your systemd runs starts', '# a hub; one is active and the others stand by (hub.json lease).']
      : ['# ~/.config is on the shared home: once enabled, every node where your systemd runs starts', '# its own agent, which is what the agent is for.']),
    '',
    '[Unit]',
    `Description=${escapeSpecifiers(DESCRIPTIONS[spec.kind])}`,
    '',
    '[Service]',
    `ExecStart=${exec}`,
    ...spec.env.map(([k, v]) => environmentLine(k, v)),
    'Restart=always',
    'RestartSec=10',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ];
  return lines.join('\n');
}
