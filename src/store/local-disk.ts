// SQLite on NFS is unsafe (broken locking), so the index must live on a node's local disk.
// We ask the kernel (statfs magic) and /proc/mounts (fs type of the longest matching mount point).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../lib/errors.js';

/** statfs f_type magic numbers of network / shared filesystems. */
const NETWORK_MAGIC = new Map<number, string>([
  [0x6969, 'nfs'],
  [0xff534d42, 'cifs'],
  [0x517b, 'smb'],
  [0xfe534d42, 'smb2'],
  [0x65735546, 'fuse'],
  [0x0bd00bd0, 'lustre'],
  [0x47504653, 'gpfs'],
  [0x00c36400, 'ceph'],
  [0x01021997, '9p'],
]);

const NETWORK_TYPES = /^(nfs\d?|cifs|smb\d?|smbfs|fuse\.sshfs|sshfs|lustre|gpfs|ceph|fuse\.ceph|9p|afs|glusterfs|fuse\.glusterfs|beegfs|davfs|fuse\.s3fs)$/;

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Parse /proc/mounts text (octal escapes like \040 for spaces decoded). */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 3) continue;
    const dec = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ source: dec(f[0]!), mountPoint: dec(f[1]!), fsType: f[2]! });
  }
  return out;
}

/** The mount that holds `p` (longest mount point prefix). */
export function mountFor(p: string, mounts: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const mp = m.mountPoint.endsWith('/') ? m.mountPoint : m.mountPoint + '/';
    if ((p + '/').startsWith(mp) || p === m.mountPoint) {
      if (!best || m.mountPoint.length >= best.mountPoint.length) best = m;
    }
  }
  return best;
}

export function isNetworkFsType(fsType: string): boolean {
  return NETWORK_TYPES.test(fsType);
}

/** Returns the network fs name holding `file`'s directory, or null when it is local. */
export function networkFsOf(file: string, mountsText?: string): string | null {
  let dir = path.resolve(path.dirname(file));
  while (!fs.existsSync(dir) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  try {
    const st = fs.statfsSync(dir);
    const name = NETWORK_MAGIC.get(Number(st.type));
    if (name) return name;
  } catch {
    /* fall through to /proc/mounts */
  }
  try {
    const text = mountsText ?? fs.readFileSync('/proc/mounts', 'utf8');
    const m = mountFor(fs.realpathSync(dir), parseMounts(text));
    if (m && isNetworkFsType(m.fsType)) return m.fsType;
  } catch {
    /* no /proc/mounts: nothing more to learn */
  }
  return null;
}

export function assertLocalDisk(file: string): void {
  const fsName = networkFsOf(file);
  if (fsName) {
    throw new UserError(
      `the index ${file} is on a network filesystem (${fsName}); SQLite is unsafe there (broken locking). ` +
        `Put it on this node's local disk, e.g. index = "/var/tmp/flurm-$USER/index.db" in the hub config or --index.`,
    );
  }
}
