// Sign-in state (docs/access.md): the login codes `flurm dashboard` registered through a user's
// spool (only their SHA-256, bound to the spool file's owner) and the sessions and bearer tokens
// made from them (only their SHA-256). The rules — who, how long, how often — are hub/auth.ts's;
// this is the SQL. Every "use once" is one UPDATE … WHERE used_ms IS NULL, so two requests racing
// for a code cannot both win.
import type { Db } from './db.js';

export type SessionKind = 'session' | 'token';

export interface LoginCodeRow {
  hash: string;
  user: string;
  event_id: string;
  host: string;
  registered_ms: number;
  expires_ms: number;
  used_ms: number | null;
  contested: number;
}

export interface SessionRow {
  hash: string;
  user: string;
  kind: SessionKind;
  created_ms: number;
  expires_ms: number;
  ended_ms: number | null;
}

export type RegisterResult = 'new' | 'duplicate' | 'contested';

export class SessionStore {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      code: db.prepare('SELECT * FROM login_codes WHERE hash = ?'),
      insertCode: db.prepare('INSERT INTO login_codes(hash, user, event_id, host, registered_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)'),
      contest: db.prepare('UPDATE login_codes SET contested = 1 WHERE hash = ?'),
      useCode: db.prepare('UPDATE login_codes SET used_ms = ? WHERE hash = ? AND used_ms IS NULL AND contested = 0 AND expires_ms > ?'),
      insertSession: db.prepare('INSERT INTO sessions(hash, user, kind, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)'),
      session: db.prepare('SELECT * FROM sessions WHERE hash = ? AND ended_ms IS NULL AND expires_ms > ?'),
      end: db.prepare('UPDATE sessions SET ended_ms = ? WHERE hash = ? AND ended_ms IS NULL'),
      pruneCodes: db.prepare('DELETE FROM login_codes WHERE expires_ms <= ?'),
      pruneSessions: db.prepare('DELETE FROM sessions WHERE expires_ms <= ? OR ended_ms <= ?'),
    };
  }

  code(hash: string): LoginCodeRow | undefined {
    return this.q.code.get(hash) as LoginCodeRow | undefined;
  }

  /**
   * Bind `hash` to `user` until `expiresMs`. The same event read again is a duplicate; the same
   * hash from another user's spool (someone copied it off NFS) contests the code: it then signs no
   * one in.
   */
  registerCode(r: { hash: string; user: string; eventId: string; host: string; nowMs: number; expiresMs: number }): RegisterResult {
    return this.db.transaction((): RegisterResult => {
      const old = this.code(r.hash);
      if (!old) {
        this.q.insertCode.run(r.hash, r.user, r.eventId, r.host, r.nowMs, r.expiresMs);
        return 'new';
      }
      if (old.user === r.user) return 'duplicate';
      this.q.contest.run(r.hash);
      return 'contested';
    })();
  }

  /** Mark the code used; true only for the one caller that did (unused, uncontested, unexpired at `nowMs`). */
  useCode(hash: string, nowMs: number): boolean {
    return this.q.useCode.run(nowMs, hash, nowMs).changes === 1;
  }

  addSession(hash: string, user: string, kind: SessionKind, nowMs: number, expiresMs: number): void {
    this.q.insertSession.run(hash, user, kind, nowMs, expiresMs);
  }

  /** The live session or token with this hash. */
  session(hash: string, nowMs: number): SessionRow | undefined {
    return this.q.session.get(hash, nowMs) as SessionRow | undefined;
  }

  endSession(hash: string, nowMs: number): boolean {
    return this.q.end.run(nowMs, hash).changes === 1;
  }

  /** Forget codes past their life and sessions that ended or expired before `beforeMs`. */
  prune(beforeMs: number): void {
    this.q.pruneCodes.run(beforeMs);
    this.q.pruneSessions.run(beforeMs, beforeMs);
  }
}
