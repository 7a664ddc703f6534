// uid → user name for spool owners. The owner of a spool file is who an event belongs to; the
// name is for display and routing. getent covers LDAP/NIS labs; /etc/passwd is the fallback.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execCommand } from './exec.js';

const cache = new Map<number, string>();
let passwd: Map<number, string> | undefined;

export function parsePasswd(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && /^\d+$/.test(f[2]!)) m.set(Number(f[2]), f[0]);
  }
  return m;
}

export async function userNameOf(uid: number): Promise<string> {
  const hit = cache.get(uid);
  if (hit) return hit;
  let name: string | undefined;
  try {
    if (uid === os.userInfo().uid) name = os.userInfo().username;
  } catch {
    /* no passwd entry for ourselves */
  }
  // /etc/passwd first (one read for the whole lab), getent for directory users (LDAP, NIS).
  if (!name) {
    try {
      passwd ??= parsePasswd(fs.readFileSync('/etc/passwd', 'utf8').slice(0, 4 << 20));
      name = passwd.get(uid);
    } catch {
      /* unreadable */
    }
  }
  if (!name) {
    try {
      const r = await execCommand('getent', ['passwd', String(uid)], { timeoutMs: 2000, maxOutputBytes: 4096 });
      name = r.stdout.split(':')[0] || undefined;
    } catch {
      /* getent missing or no entry */
    }
  }
  name ??= `uid${uid}`;
  cache.set(uid, name);
  return name;
}

/** A user's home directory from /etc/passwd (field 6), or null when the user is not listed. */
export function homeOf(user: string, passwdText?: string): string | null {
  let text = passwdText;
  if (text === undefined) {
    try {
      if (user === os.userInfo().username) return os.homedir();
    } catch {
      /* no passwd entry for ourselves */
    }
    try {
      text = fs.readFileSync('/etc/passwd', 'utf8').slice(0, 4 << 20);
    } catch {
      return null;
    }
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 6 && f[5]) return f[5];
  }
  return null;
}

/**
 * `~/x` → this user's home + x; `~user/x` → that user's home (from /etc/passwd) + x; a relative
 * path → under `baseDir`. Throws an Error naming the user when their home is unknown.
 */
export function expandHomePath(p: string, baseDir: string): string {
  const m = /^~([a-z_][a-z0-9_.-]*\$?)?(?:\/(.*))?$/i.exec(p);
  if (!m) return path.resolve(baseDir, p);
  const home = m[1] ? homeOf(m[1]) : os.homedir();
  if (!home) throw new Error(`no home directory for user "${m[1]}" (not in /etc/passwd)`);
  return path.join(home, m[2] ?? '');
}
