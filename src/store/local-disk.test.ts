import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertLocalDisk, isNetworkFsType, mountFor, networkFsOf, parseMounts } from './local-disk.js';

const mounts = fs.readFileSync(path.join(import.meta.dirname, '../../test/fixtures/proc-mounts/nfs-client.txt'), 'utf8');

describe('index on local disk', () => {
  it('finds the mount holding a path by the longest mount point, decoding \\040', () => {
    const m = parseMounts(mounts);
    expect(mountFor('/home/alice/.local/state/flurm/index.db', m)?.fsType).toBe('nfs4');
    expect(mountFor('/scratch/flurm/index.db', m)?.fsType).toBe('xfs');
    expect(mountFor('/data/data sets/x.db', m)?.fsType).toBe('nfs');
    expect(mountFor('/var/tmp/flurm/index.db', m)?.fsType).toBe('ext4');
  });

  it('classes nfs, cifs and sshfs as network filesystems, ext4/xfs/tmpfs as local', () => {
    for (const t of ['nfs', 'nfs4', 'cifs', 'smb3', 'fuse.sshfs', 'lustre', 'gpfs']) expect(isNetworkFsType(t)).toBe(true);
    for (const t of ['ext4', 'xfs', 'btrfs', 'tmpfs', 'zfs', 'overlay']) expect(isNetworkFsType(t)).toBe(false);
  });

  it('this machine\'s temp dir is local, so an index there is accepted', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-ld-'));
    expect(networkFsOf(path.join(dir, 'index.db'))).toBeNull();
    expect(() => assertLocalDisk(path.join(dir, 'index.db'))).not.toThrow();
    fs.rmSync(dir, { recursive: true });
  });

  it('refuses a path whose mount is NFS with a message that says why and what to do', () => {
    // Pose the fixture's NFS mount at this machine's root so the path resolves through it.
    const fake = mounts + `fileserver.lab:/export/x ${os.tmpdir()} nfs4 rw 0 0\n`;
    expect(networkFsOf(path.join(os.tmpdir(), 'index.db'), fake)).toBe('nfs4');
  });
});
