// Who and where we are: host name (FLURM_HOST overrides, so tests can pose as several hosts),
// user name, and the user's spool directory (FLURM_SPOOL, default ~/.flurm).
import os from 'node:os';
import path from 'node:path';

export function hostName(env: NodeJS.ProcessEnv = process.env): string {
  const h = env.FLURM_HOST?.trim();
  if (h) return h;
  return os.hostname().split('.')[0] || 'localhost';
}

export function userName(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return os.userInfo().username;
  } catch {
    return env.USER || env.LOGNAME || String(process.getuid?.() ?? 'unknown');
  }
}

export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOME || os.homedir();
}

export function spoolDir(env: NodeJS.ProcessEnv = process.env): string {
  const s = env.FLURM_SPOOL?.trim();
  return s ? path.resolve(s) : path.join(homeDir(env), '.flurm');
}

/** A host name safe to use as a file name (events/<host>.jsonl). */
export function safeHostFileName(host: string): string {
  return host.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || 'unknown';
}
