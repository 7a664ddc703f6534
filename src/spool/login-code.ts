// Login codes: the one-time secret `flurm dashboard` makes to sign a person in to the hub's web
// page or API by proof of file ownership (docs/access.md). The CLI draws 32 random bytes, writes
// only their SHA-256 into a `login` event in the user's own spool (spools live on NFS, readable
// by others: a hash there gives nothing away), rings the hub, and prints the secret in a link.
// The hub binds the hash to the owner of the spool file it came from (the same trust rule as
// every event) for LOGIN_CODE_TTL_MINUTES of its own clock; `GET /login?code=SECRET` hashes the
// secret and signs in as that user, once.
//
// Unlike a link code (spool/link-code.ts) a login code is not signed: the CLI makes it, and the
// CLI holds no key. Nothing here is secret but the code itself, which never touches a disk.
import { createHash, randomBytes } from 'node:crypto';

/** A registered code signs in within this many minutes of the hub reading its `login` event (the hub's clock). */
export const LOGIN_CODE_TTL_MINUTES = 5;
/** Random bytes in a code (and in a session id or a bearer token). */
export const LOGIN_SECRET_BYTES = 32;
/** A code as it travels in a URL: base64url of LOGIN_SECRET_BYTES, no padding (43 characters). */
export const LOGIN_SECRET_RE = /^[A-Za-z0-9_-]{43}$/;
/** What a `login` event carries: the SHA-256 of the code, 64 lower-case hex digits. */
export const LOGIN_HASH_RE = /^[0-9a-f]{64}$/;

/** A fresh secret (a login code, a session id, a bearer token): base64url of 32 random bytes. */
export function newLoginSecret(): string {
  return randomBytes(LOGIN_SECRET_BYTES).toString('base64url');
}

/** SHA-256 of a secret, hex: what the spool (for a code) and the index (for every secret) keep. */
export function hashLoginSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
