// lib/systemd-unit.ts: the printed unit names absolute paths, restarts, carries the env and says
// where to save it; odd paths are quoted the way systemd reads them.
import { describe, expect, it } from 'vitest';
import { renderSystemdUnit, systemdQuote, unitName } from './systemd-unit.js';

describe('renderSystemdUnit', () => {
  it('agent: header, ExecStart with absolute paths, Restart=always, env, WantedBy', () => {
    const text = renderSystemdUnit({
      kind: 'agent',
      node: '/opt/node/bin/node',
      cli: '/home/alice/flurm/dist/cli/flurm.cjs',
      env: [['FLURM_CLUSTER', '/home/labadmin/.flurm/cluster']],
    });
    expect(text).toMatch(/^# flurm-agent\.service/);
    expect(text).toContain('# Save as ~/.config/systemd/user/flurm-agent.service');
    expect(text).toContain('systemctl --user enable --now flurm-agent.service');
    expect(text).toMatch(/loginctl enable-linger/);
    expect(text).toContain('\n[Unit]\nDescription=flurm agent');
    expect(text).toContain('\n[Service]\nExecStart=/opt/node/bin/node /home/alice/flurm/dist/cli/flurm.cjs agent\n');
    expect(text).toContain('Environment="FLURM_CLUSTER=/home/labadmin/.flurm/cluster"\n');
    expect(text).toContain('Restart=always\nRestartSec=10\n');
    expect(text).toContain('\n[Install]\nWantedBy=default.target\n');
    expect(text).not.toMatch(/FLURM_HOST/);
  });

  it('hub: --config and FLURM_CONFIG', () => {
    const text = renderSystemdUnit({ kind: 'hub', node: '/n', cli: '/c.cjs', env: [['FLURM_CONFIG', '/etc/x/hub.toml']], config: '/etc/x/hub.toml' });
    expect(unitName('hub')).toBe('flurm-hub.service');
    expect(text).toContain('ExecStart=/n /c.cjs hub --config /etc/x/hub.toml\n');
    expect(text).toContain('Environment="FLURM_CONFIG=/etc/x/hub.toml"');
  });

  it('quotes words with spaces, quotes, $ and %', () => {
    expect(systemdQuote('/a/b')).toBe('/a/b');
    expect(systemdQuote('/my dir/node')).toBe('"/my dir/node"');
    expect(systemdQuote('/a"b\\c')).toBe('"/a\\"b\\\\c"');
    expect(systemdQuote('/x/$HOME/100%')).toBe('"/x/$$HOME/100%%"');
  });
});
