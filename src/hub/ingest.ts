// The ingest loop: find every user's spool, read only the new bytes of each events file (and the
// legacy ~/.pingchilling), apply the events to the index and queue notifications — offsets, jobs
// and outbox rows in ONE transaction per chunk, so a restart neither loses nor repeats an event.
//
// Fairness and bounds: each read takes at most max_bytes_per_read from one file; passes go
// round-robin over all files with work and yield to the event loop between passes, so one user's
// flood never starves the others or the HTTP server. Idle files are checked with a cheap stat,
// spread over several ticks when the lab is large; files with running jobs and any file a
// doorbell names are opened (NFS close-to-open revalidation) every tick.
//
// What is not tracked yet — a ~/.pingchilling or an events dir that does not exist, a spool dir a
// user has not made, an events dir with no file in it — is looked at with one lstat every
// PROBE_POLLS polls (within the idle-check budget), so a user's first file is seen in seconds
// without a doorbell, not at the next rediscovery. A user with only ~/.pingchilling (no spool
// dir) is read too: its owner is the home's owner.
import fs from 'node:fs';
import path from 'node:path';
import { inTransaction, type Db } from '../store/db.js';
import { FileStore } from '../store/files.js';
import type { JobStore } from '../store/jobs.js';
import type { SlurmJobStore } from '../store/slurm-jobs.js';
import type { ProblemStore } from '../store/outbox.js';
import type { Logger } from '../lib/logger.js';
import { errorMessage } from '../lib/errors.js';
import { Ticker } from '../lib/ticker.js';
import { MAX_EVENT_BYTES, type EndEvent, type LinkEvent, type LoginEvent, type NoteEvent, type SlurmEvent, type StartEvent } from '../spool/events.js';
import { parseEventLine } from '../spool/validate.js';
import { readNew, discoverEventFiles, MAX_EVENT_FILES, type Cursor } from '../spool/tail-reader.js';
import { inspectSpool, inodeNumber } from '../spool/trust.js';
import { parseLegacyLine, legacyJobId } from '../spool/legacy.js';
import { userNameOf } from '../lib/users.js';
import { validateUserConfig, type UserConfig } from '../config/schema.js';
import { readBoundedText, parseTomlText, checkDestinations } from '../config/load.js';
import type { Enqueuer } from './enqueue.js';
import type { LinkService } from './links.js';
import type { AuthService } from './http/auth.js';

export interface SpoolSource {
  /** The spool directory (<home>/.flurm). */
  dir: string;
  /** Legacy ~/.pingchilling file to read too, if any. */
  legacyFile?: string;
}

export interface IngestOptions {
  /** A job started or ended (after its chunk is committed): the dashboard's stream. */
  onJobsChanged?: () => void;
  pollIntervalMs: number;
  rediscoverIntervalMs: number;
  maxBytesPerRead: number;
  maxIdleChecksPerSecond: number;
  backfillSeconds: number;
  /** Lists the spools to watch (config globs expanded); called at each rediscovery. */
  sources: () => SpoolSource[];
  now?: () => number;
  /** Time budget of one tick before yielding to the event loop. */
  sliceMs?: number;
  /** SLURM jobs: `slurm` events are registered here, and the poller is told of new ones. */
  slurm?: { store: SlurmJobStore; onRegistered: () => void };
  /** Account links: `link` events are claimed here, for the file's owner (hub/links.ts). */
  links?: Pick<LinkService, 'claim'>;
  /** Sign-in: `login` events register their code's hash for the file's owner (hub/http/auth.ts). */
  logins?: Pick<AuthService, 'register'>;
}

interface FileState {
  path: string;
  kind: 'events' | 'legacy';
  spool: SpoolState;
  cursor: Cursor;
  nextCheckMs: number;
  /** When new events last arrived (not counting the first read of the file). */
  lastActivityMs: number;
  refused: string | null;
  /** The hub was told (doorbell) to look now. */
  urgent: boolean;
  /** Unread bytes are known to be left (a read ran out of its slice). */
  pending?: boolean;
  /** Next time a check opens the file instead of lstat-ing it (NFS revalidation). */
  nextOpenMs: number;
}

interface SpoolState {
  dir: string;
  src: SpoolSource;
  uid: number;
  user: string;
  legacyFile?: string;
  /** The spool dir does not exist (yet): a legacy-only user, whose ~/.pingchilling is read. */
  dirMissing: boolean;
  /** Events files tracked; while 0 (or the events dir is missing) the dir is probed every few polls. */
  eventFiles: number;
  /** Next probe of what is not tracked yet (see probeUntracked). */
  nextProbeMs: number;
  /** Next time a probe opens the parent directories first (NFS revalidation of missing names). */
  nextProbeOpenMs: number;
  files: Map<string, FileState>;
  config: UserConfig;
  configMtimeMs: number;
  refused: string | null;
  /** inode:mtime:ctime of the events dir at the last listing. */
  dirStamp: string;
  rescan: boolean;
  lastFullScanMs: number;
}

/** A source whose spool dir does not exist and that has no ~/.pingchilling: probed until one appears. */
interface PendingSource {
  src: SpoolSource;
  nextProbeMs: number;
  nextProbeOpenMs: number;
}

/** A file with running jobs or events in the last HOT_WINDOW_MS is checked every poll. */
const HOT_WINDOW_MS = 15_000;
/** Idle files are checked at least this often. */
const IDLE_INTERVAL_MAX_MS = 15_000;
const CHECK_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
/**
 * Idle checks are one lstat (~1 µs); every ~30 s per file (jittered) a check opens the file
 * instead, because open() makes an NFS client revalidate attributes that lstat may serve stale
 * from its cache (acregmax, up to 60 s).
 */
const REVALIDATE_MS = 30_000;
/**
 * What is not tracked yet is probed every PROBE_POLLS polls (1 lstat each; more polls only when
 * the probes alone would pass max_idle_checks_per_second), so it is noticed within PROBE_POLLS
 * poll intervals of its creation (local disk; NFS: see docs/spool-protocol.md).
 */
const PROBE_POLLS = 2;
const DIR_OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NONBLOCK;

/** True when `p` exists (any kind; what it is gets judged when it is opened). One lstat. */
function exists(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

/** inode:mtime:ctime of a directory, or 'none' when it does not exist. One lstat. */
function dirStampOf(dir: string): string {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.mtimeMs}:${st.ctimeMs}` : 'none';
}

/**
 * Open and close a directory: on NFS, open() revalidates the directory's attributes (close-to-open),
 * which drops a stale "no such file" the client may have cached for a name in it.
 */
function revalidateDir(dir: string): void {
  try {
    fs.closeSync(fs.openSync(dir, DIR_OPEN_FLAGS));
  } catch {
    /* missing or unreadable: the lstat that follows says what is there */
  }
}

export class Ingestor {
  private readonly spools = new Map<string, SpoolState>();
  /** Sources with neither a spool dir nor a ~/.pingchilling, by spool dir. */
  private readonly pending = new Map<string, PendingSource>();
  /** lstats one full probe sweep takes (counted at the last probe pass). */
  private probeCount = 0;
  private lastDiscoverMs = -Infinity;
  private readonly ticker: Ticker;
  private ticking = false;
  private readonly files: FileStore;
  private readonly now: () => number;
  /** True while ingesting a brand-new index: old events are recorded without notifying. */
  private readonly backfillBeforeMs: number | null;
  /** When a brand-new index started: `link` events written before it are replayed links. */
  private readonly freshSinceMs: number | null;
  private readonly defaultUserConfig = validateUserConfig({});
  readonly stats = { events: 0, invalid: 0, ticks: 0, lastTickMs: 0 };

  constructor(
    private readonly db: Db,
    private readonly jobs: JobStore,
    private readonly problems: ProblemStore,
    private readonly enqueuer: Enqueuer,
    private readonly log: Logger,
    private readonly opts: IngestOptions,
    private readonly onQueued: () => void,
  ) {
    this.now = opts.now ?? Date.now;
    this.files = new FileStore(db);
    const fresh = this.files.claimFresh(this.now());
    this.backfillBeforeMs = fresh && opts.backfillSeconds > 0 ? this.now() - opts.backfillSeconds * 1000 : null;
    this.freshSinceMs = fresh ? this.now() : null;
    // Ticks at the poll cadence; at once after a doorbell, or while work is left after a slice
    // (a 0 ms wait: the event loop — HTTP, doorbells, deliveries — gets its turn in between).
    this.ticker = new Ticker({
      intervalMs: opts.pollIntervalMs,
      run: async () => ((await this.tick()) ? 0 : undefined),
      onError: (err) => this.log.error('ingest tick failed; will retry', { error: errorMessage(err) }),
    });
  }

  start(): void {
    this.ticker.start(0);
  }

  /** Stop ticking; resolves when a tick in progress has ended. */
  stop(): Promise<void> {
    return this.ticker.stop();
  }

  /** Doorbell: look at this user's files (and events dir) now. Unknown users trigger a rediscovery. */
  ring(user?: string): void {
    let known = false;
    for (const s of this.spools.values()) {
      if (user && s.user !== user) continue;
      known = true;
      s.rescan = true;
      for (const f of s.files.values()) f.urgent = true;
    }
    if (!known || !user) this.lastDiscoverMs = -Infinity;
    this.ticker.wake();
  }

  /**
   * One tick: rediscover if due, check the files that are due (cheap), then read those with new
   * bytes, round-robin, until done or the time slice is used. Ticks come at the poll cadence
   * (not at each file's own deadline), or at once after a doorbell or while work is left.
   */
  async tick(): Promise<boolean> {
    if (this.ticking) return false;
    this.ticking = true;
    let more = false;
    const t0 = this.now();
    try {
      this.stats.ticks++;
      if (t0 - this.lastDiscoverMs >= this.opts.rediscoverIntervalMs) await this.discover();
      else await this.probeUntracked(t0);
      for (const s of this.spools.values()) if (s.rescan && s.user) await this.rescanSpool(s, true);
      more = await this.readPasses(t0);
    } catch (err) {
      this.log.error('ingest tick failed; will retry', { error: errorMessage(err) });
    } finally {
      this.ticking = false;
      this.stats.lastTickMs = this.now() - t0;
    }
    return more;
  }

  /** Run the ingest until no file has unread bytes (tests, `hub --once`). */
  async drain(maxTicks = 100_000): Promise<void> {
    this.lastDiscoverMs = -Infinity;
    await this.discover();
    for (const s of this.spools.values()) for (const f of s.files.values()) f.urgent = true;
    for (let i = 0; i < maxTicks; i++) if (!(await this.tick())) break;
  }

  // ---- discovery -------------------------------------------------------------------------

  private async discover(): Promise<void> {
    this.lastDiscoverMs = this.now();
    let sources: SpoolSource[];
    try {
      sources = this.opts.sources();
    } catch (err) {
      this.log.error('cannot list spools', { error: errorMessage(err) });
      return;
    }
    const seen = new Set<string>();
    const fresh: SpoolState[] = [];
    for (const src of sources) {
      seen.add(src.dir);
      const s = this.spools.get(src.dir);
      if (s && !s.refused && !s.dirMissing && this.unchangedSpool(s)) continue;
      const added = await this.inspectSource(src);
      if (added) fresh.push(added);
    }
    for (const dir of [...this.spools.keys()]) if (!seen.has(dir)) this.spools.delete(dir);
    for (const dir of [...this.pending.keys()]) if (!seen.has(dir)) this.pending.delete(dir);
    await this.resolveUsers(fresh);
    for (const s of this.spools.values()) if (s.user) await this.rescanSpool(s, false);
  }

  /** User names: /etc/passwd or getent, a few at a time, cached for the life of the hub. */
  private async resolveUsers(fresh: SpoolState[]): Promise<void> {
    for (let i = 0; i < fresh.length; i += 16) {
      await Promise.all(fresh.slice(i, i + 16).map(async (s) => (s.user = await userNameOf(s.uid))));
    }
  }

  /**
   * Look at one source: its spool dir, or — when there is none — its ~/.pingchilling, whose
   * reader is then the home's owner (the file itself must be owned by that uid: readNew checks).
   * A source with neither is kept in `pending` and probed. Returns the state when a new one was
   * made (its user name still to resolve).
   */
  private async inspectSource(src: SpoolSource): Promise<SpoolState | null> {
    let s = this.spools.get(src.dir);
    const insp = await inspectSpool(src.dir);
    let uid: number;
    let dirMissing = false;
    if (insp.ok) uid = insp.uid;
    else {
      const homeUid = insp.code === 'missing' && src.legacyFile ? this.legacyOnlyOwner(src.legacyFile) : null;
      if (homeUid === null) {
        if (s) s.refused = insp.reason;
        if (insp.code === 'missing') {
          if (!this.pending.has(src.dir)) this.pending.set(src.dir, { src, ...this.probeTimes() });
          return null;
        }
        if (this.problems.report(`spool:${src.dir}`, insp.reason, { file: src.dir, nowMs: this.now() })) this.log.warn('spool refused', { spool: src.dir, reason: insp.reason });
        return null;
      }
      uid = homeUid;
      dirMissing = true;
    }
    this.pending.delete(src.dir);
    let made: SpoolState | null = null;
    if (!s || s.uid !== uid) {
      if (s) this.log.warn('spool owner changed', { spool: src.dir, uid });
      s = {
        dir: src.dir, src, uid, user: '', legacyFile: src.legacyFile, dirMissing, eventFiles: 0, ...this.probeTimes(),
        files: new Map(), config: this.defaultUserConfig, configMtimeMs: -1, refused: null, dirStamp: '', rescan: true, lastFullScanMs: 0,
      };
      this.spools.set(src.dir, s);
      made = s;
    }
    s.refused = null;
    if (s.dirMissing && !dirMissing) s.rescan = true; // the spool dir appeared: list its events dir now
    s.dirMissing = dirMissing;
    return made;
  }

  /** The uid of the home holding `legacyFile` when that file exists, else null. */
  private legacyOnlyOwner(legacyFile: string): number | null {
    if (!exists(legacyFile)) return null;
    const st = fs.statSync(path.dirname(legacyFile), { throwIfNoEntry: false });
    return st && st.isDirectory() ? st.uid : null;
  }

  /** First probe times of a new source: spread over the probe interval and the revalidation period. */
  private probeTimes(): { nextProbeMs: number; nextProbeOpenMs: number } {
    const now = this.now();
    return { nextProbeMs: now + Math.random() * this.probeInterval(), nextProbeOpenMs: now + Math.random() * REVALIDATE_MS };
  }

  /**
   * Probes and idle file checks share max_idle_checks_per_second: the probes take what they need
   * for PROBE_POLLS polls but at most half of it; the idle files get the rest (idleInterval).
   */
  private probeInterval(): number {
    const spread = (this.probeCount / (this.opts.maxIdleChecksPerSecond / 2)) * 1000;
    return Math.min(IDLE_INTERVAL_MAX_MS, Math.max(PROBE_POLLS * this.opts.pollIntervalMs, spread));
  }

  /**
   * Between rediscoveries: one lstat for each thing a source lacks — its spool dir (pending and
   * legacy-only sources), its events dir or a first file in it, its ~/.pingchilling — every
   * PROBE_POLLS polls. Whatever appeared is tracked (and read) in this same tick. Every
   * ~REVALIDATE_MS a probe first opens the parent directory, for NFS (see revalidateDir).
   */
  private async probeUntracked(now: number): Promise<void> {
    const interval = this.probeInterval();
    // A probe due before the middle of the next poll goes now: exactly every PROBE_POLLS ticks.
    const dueBy = now + this.opts.pollIntervalMs / 2;
    const revalidating = (p: { nextProbeOpenMs: number }): boolean => {
      if (now < p.nextProbeOpenMs) return false;
      p.nextProbeOpenMs = now + REVALIDATE_MS * (0.75 + 0.5 * Math.random());
      return true;
    };
    let count = 0;
    const appeared: SpoolSource[] = [];
    const relist: SpoolState[] = [];
    for (const p of this.pending.values()) {
      count += p.src.legacyFile ? 2 : 1;
      if (p.nextProbeMs > dueBy) continue;
      p.nextProbeMs = now + interval;
      if (revalidating(p)) {
        revalidateDir(path.dirname(p.src.dir));
        if (p.src.legacyFile && path.dirname(p.src.legacyFile) !== path.dirname(p.src.dir)) revalidateDir(path.dirname(p.src.legacyFile));
      }
      if (exists(p.src.dir) || (p.src.legacyFile !== undefined && exists(p.src.legacyFile))) appeared.push(p.src);
    }
    for (const s of this.spools.values()) {
      if (s.refused || !s.user) continue;
      const watchDir = s.dirMissing || s.eventFiles === 0;
      const watchLegacy = s.legacyFile !== undefined && !s.files.has(s.legacyFile);
      if (!watchDir && !watchLegacy) continue;
      count += (watchDir ? 1 : 0) + (watchLegacy ? 1 : 0);
      if (s.nextProbeMs > dueBy) continue;
      s.nextProbeMs = now + interval;
      if (revalidating(s)) {
        const home = s.legacyFile !== undefined ? path.dirname(s.legacyFile) : null;
        if (watchDir) revalidateDir(s.dirMissing ? path.dirname(s.dir) : s.dir);
        if (watchLegacy && home !== null && !(watchDir && s.dirMissing && home === path.dirname(s.dir))) revalidateDir(home);
      }
      if (s.dirMissing && watchDir) {
        if (exists(s.dir)) appeared.push(s.src);
      } else if (watchDir && dirStampOf(path.join(s.dir, 'events')) !== s.dirStamp) relist.push(s);
      if (watchLegacy && exists(s.legacyFile!)) this.track(s, s.legacyFile!, 'legacy');
    }
    this.probeCount = count;
    const fresh: SpoolState[] = [];
    for (const src of appeared) {
      const made = await this.inspectSource(src);
      if (made) fresh.push(made);
    }
    await this.resolveUsers(fresh);
    for (const src of appeared) {
      const s = this.spools.get(src.dir);
      if (s?.user && !s.refused) await this.rescanSpool(s, false);
    }
    for (const s of relist) await this.rescanSpool(s, false);
  }

  /** A known spool still the same directory with the same owner: one synchronous lstat. */
  private unchangedSpool(s: SpoolState): boolean {
    const st = fs.lstatSync(s.dir, { throwIfNoEntry: false });
    return !!st && st.isDirectory() && !st.isSymbolicLink() && st.uid === s.uid;
  }

  private loadUserConfig(s: SpoolState): void {
    const file = path.join(s.dir, 'config.toml');
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch {
      s.config = this.defaultUserConfig;
      s.configMtimeMs = -1;
      return;
    }
    if (st.mtimeMs === s.configMtimeMs) return;
    s.configMtimeMs = st.mtimeMs;
    const key = `config:${file}`;
    try {
      if (st.isSymbolicLink()) throw new Error('is a symlink — refused, not followed');
      if (st.uid !== s.uid) throw new Error(`is owned by uid ${st.uid}, not the spool owner ${s.uid} — refused`);
      const cfg = validateUserConfig(parseTomlText(readBoundedText(file), file), file);
      checkDestinations(cfg.to, 'to', file);
      s.config = cfg;
      this.problems.clear(key);
    } catch (err) {
      s.config = this.defaultUserConfig;
      const reason = `${file}: ${errorMessage(err).replace(file + ': ', '')} (using defaults: lab routes only)`;
      if (this.problems.report(key, reason, { user: s.user, file, nowMs: this.now() })) this.log.warn('user config rejected', { user: s.user, reason });
    }
  }

  /**
   * List the spool's events files again — only when its events dir changed (a new host file
   * changes the directory's mtime), when forced (doorbell), or every 10 rediscoveries as a
   * safety net. One lstat per spool otherwise.
   */
  private async rescanSpool(s: SpoolState, force: boolean): Promise<void> {
    s.rescan = false;
    this.loadUserConfig(s);
    const stamp = dirStampOf(path.join(s.dir, 'events'));
    const now = this.now();
    const due = force || stamp !== s.dirStamp || now - s.lastFullScanMs > 10 * this.opts.rediscoverIntervalMs;
    if (stamp === 'none') s.dirStamp = stamp;
    else if (due) {
      s.dirStamp = stamp;
      s.lastFullScanMs = now;
      const found = await discoverEventFiles(s.dir, { maxFiles: MAX_EVENT_FILES, expectedUid: s.uid });
      for (const note of found.notes) {
        if (this.problems.report(`discover:${s.dir}:${note.slice(0, 60)}`, note, { user: s.user, file: s.dir, nowMs: now })) this.log.warn('spool', { user: s.user, note });
      }
      // Refused entries are tracked too: readNew refuses them again with the reason, reported once.
      for (const f of found.files) this.track(s, f.path, 'events');
    }
    if (s.legacyFile && !s.files.has(s.legacyFile) && exists(s.legacyFile)) this.track(s, s.legacyFile, 'legacy');
  }

  private track(s: SpoolState, file: string, kind: 'events' | 'legacy'): void {
    if (s.files.has(file)) return;
    if (kind === 'events') s.eventFiles++;
    const saved = this.files.cursor(file);
    const now = this.now();
    if (kind === 'events') {
      // Files of hosts with running jobs stay hot (opened every tick) across a hub restart.
      const n = this.jobs.countRunning(s.user, path.basename(file, '.jsonl'));
      if (n > 0) this.running.set(file, n);
    }
    s.files.set(file, {
      path: file, kind, spool: s,
      cursor: saved ?? { inode: null, offset: 0, skipping: false },
      nextCheckMs: now, lastActivityMs: -Infinity, refused: null, urgent: true,
      nextOpenMs: now + Math.random() * REVALIDATE_MS,
    });
  }

  // ---- reading -----------------------------------------------------------------------------

  private fileCount(): number {
    let n = 0;
    for (const s of this.spools.values()) n += s.files.size;
    return n;
  }

  /** How long an idle file waits between checks: the check budget (less the probes') spread over all files. */
  private idleInterval(): number {
    const probesPerS = (this.probeCount * 1000) / this.probeInterval();
    const budget = Math.max(this.opts.maxIdleChecksPerSecond / 2, this.opts.maxIdleChecksPerSecond - probesPerS);
    const spread = (this.fileCount() / budget) * 1000;
    return Math.min(IDLE_INTERVAL_MAX_MS, Math.max(this.opts.pollIntervalMs, spread));
  }

  private isHot(f: FileState, now: number): boolean {
    return (this.running.get(f.path) ?? 0) > 0 || now - f.lastActivityMs < HOT_WINDOW_MS;
  }

  /**
   * Whether a due file has new bytes, judged against the saved cursor: one lstat, or (hot files,
   * and every REVALIDATE_MS) one open + fstat + close, which NFS revalidates. Synchronous: a few
   * µs each. Anything odd (symlink, FIFO, error) goes to readNew, which reports it once.
   */
  private changed(f: FileState, now: number, hot: boolean): boolean {
    if (!hot && now < f.nextOpenMs) {
      const st = fs.lstatSync(f.path, { bigint: true, throwIfNoEntry: false });
      if (!st) return false;
      if (!st.isFile()) return !f.refused;
      return inodeNumber(st.ino) !== f.cursor.inode || Number(st.size) !== f.cursor.offset || f.cursor.skipping;
    }
    f.nextOpenMs = now + REVALIDATE_MS * (0.75 + 0.5 * Math.random());
    let fd: number;
    try {
      fd = fs.openSync(f.path, CHECK_FLAGS);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== 'ENOENT' && !f.refused;
    }
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      if (!st.isFile()) return !f.refused;
      return inodeNumber(st.ino) !== f.cursor.inode || Number(st.size) !== f.cursor.offset || f.cursor.skipping;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Round-robin passes over files with new bytes; returns true when work is left after the slice. */
  private async readPasses(t0: number): Promise<boolean> {
    const slice = this.opts.sliceMs ?? 100;
    const now = this.now();
    const idle = this.idleInterval();
    let work: FileState[] = [];
    for (const s of this.spools.values()) {
      if (!s.user || s.refused) continue;
      for (const f of s.files.values()) {
        if (!f.urgent && !f.pending && f.nextCheckMs > now) continue;
        const hot = this.isHot(f, now);
        f.nextCheckMs = now + (hot ? this.opts.pollIntervalMs : idle);
        if (f.pending || f.urgent || this.changed(f, now, hot)) work.push(f);
        f.urgent = false;
      }
    }
    while (work.length) {
      const withMore: FileState[] = [];
      for (const f of work) {
        f.pending = await this.readFile(f);
        if (f.pending) withMore.push(f);
        if (this.now() - t0 > slice) {
          // Out of time: the rest keep `pending` and go first next tick.
          for (const g of work.slice(work.indexOf(f) + 1)) g.pending = true;
          return true;
        }
      }
      work = withMore;
    }
    return false;
  }

  /** Read one file's new bytes; returns true when it still has unread bytes. */
  private async readFile(f: FileState): Promise<boolean> {
    const now = this.now();
    const res = await readNew(f.path, f.cursor, { expectedUid: f.spool.uid, maxBytes: this.opts.maxBytesPerRead, maxLineBytes: MAX_EVENT_BYTES });
    if (res.refused) {
      if (f.refused !== res.refused) {
        f.refused = res.refused;
        if (res.refusedCode !== 'missing') {
          this.problems.report(`refused:${f.path}`, res.refused, { user: f.spool.user, file: f.path, nowMs: now });
          this.log.warn('file refused', { user: f.spool.user, file: f.path, reason: res.refused });
        }
      }
      return false;
    }
    if (f.refused) {
      this.problems.clear(`refused:${f.path}`);
      f.refused = null;
    }
    for (const note of res.notes) {
      this.problems.report(`note:${f.path}:${note.slice(0, 40)}`, note, { user: f.spool.user, file: f.path, nowMs: now });
      this.log.once(`note:${f.path}:${note}`, 'warn', 'spool file', { user: f.spool.user, file: f.path, note });
    }
    const changed = res.lines.length > 0 || res.cursor.offset !== f.cursor.offset || res.cursor.inode !== f.cursor.inode || res.cursor.skipping !== f.cursor.skipping;
    if (changed) {
      // The first read of a file is history, not activity: it must not make every file hot.
      if (f.cursor.inode !== null) f.lastActivityMs = now;
      this.applyChunk(f, res.lines, res.cursor);
    }
    f.cursor = res.cursor;
    return !res.eof;
  }

  private readonly running = new Map<string, number>();

  /** A start or end was applied in the chunk being read. */
  private jobsChanged = false;

  private applyChunk(f: FileState, lines: { text: string; endOffset: number }[], cursor: Cursor): void {
    const seenMs = this.now();
    let queued = 0;
    this.jobsChanged = false;
    inTransaction(this.db, () => {
      for (const { text } of lines) {
        queued += f.kind === 'legacy' ? this.applyLegacyLine(f, text, seenMs) : this.applyEventLine(f, text, seenMs);
      }
      this.files.saveCursor(f.path, f.spool.user, f.kind, cursor, seenMs);
    });
    if (queued > 0) this.onQueued();
    if (this.jobsChanged) this.opts.onJobsChanged?.();
  }

  private silent(ts: string): boolean {
    if (this.backfillBeforeMs === null) return false;
    const t = Date.parse(ts);
    return Number.isFinite(t) && t < this.backfillBeforeMs;
  }

  private trackRunning(f: FileState, delta: number): void {
    this.running.set(f.path, Math.max(0, (this.running.get(f.path) ?? 0) + delta));
  }

  private applyEventLine(f: FileState, text: string, seenMs: number): number {
    if (text.trim() === '') return 0;
    const r = parseEventLine(text);
    const user = f.spool.user;
    if (r.kind === 'invalid') {
      this.stats.invalid++;
      this.problems.report(`invalid:${f.path}`, `invalid event line: ${r.reason}`, { user, file: f.path, nowMs: seenMs });
      this.log.once(`invalid:${f.path}`, 'warn', 'invalid event line skipped (further ones in this file are counted, not logged)', { user, file: f.path, reason: r.reason });
      return 0;
    }
    if (r.kind === 'ignored') {
      this.log.once(`ignored:${r.type}`, 'info', 'ignoring events of an unknown type', { type: r.type, file: f.path });
      return 0;
    }
    const ev = r.event;
    this.stats.events++;
    if (r.unknownFields.length) this.log.once(`unknown-fields:${r.unknownFields.join(',')}`, 'info', 'keeping unknown event fields', { fields: r.unknownFields.join(',') });
    if (ev.user !== user) this.log.once(`user-mismatch:${f.path}`, 'warn', 'event names another user than the file owner; the owner is used', { file: f.path, claims: ev.user, owner: user });
    const silent = this.silent(ev.ts);
    if (ev.type === 'start') {
      if (!this.jobs.applyStart(ev as StartEvent, user, seenMs)) this.refuseForeignId(f, ev.id, seenMs);
      else {
        this.trackRunning(f, 1);
        this.jobsChanged = true;
      }
      return 0;
    }
    if (ev.type === 'end') {
      const job = this.jobs.applyEnd(ev as EndEvent, user, seenMs);
      if (!job) return 0;
      this.trackRunning(f, -1);
      this.jobsChanged = true;
      return this.enqueuer.jobEnded(job, f.spool.config, seenMs, { silent });
    }
    if (ev.type === 'note') {
      const n = ev as NoteEvent;
      if (!this.jobs.applyNote(n, user, seenMs)) return 0;
      return this.enqueuer.noteAdded({ id: n.id, user, host: n.host, ts: n.ts, title: n.title, message: n.message, to: n.to }, f.spool.config, seenMs, { silent });
    }
    if (ev.type === 'slurm') {
      if (!this.opts.slurm) return 0;
      const res = this.opts.slurm.store.register(ev as SlurmEvent, user, seenMs, { silent, uid: f.spool.uid });
      if (res === 'foreign') this.refuseForeignId(f, ev.id, seenMs);
      if (res === 'new') this.opts.slurm.onRegistered();
      return 0;
    }
    if (ev.type === 'link') {
      if (!this.opts.links) {
        this.log.once('links-off', 'info', 'ignoring link events: this ingest links no accounts', { file: f.path });
        return 0;
      }
      // A link is state, not a message: on a new index every link written before the hub started
      // is a replay (its code long expired, maybe), accepted on its signature and told to no one.
      const t = Date.parse(ev.ts);
      const replay = silent || (this.freshSinceMs !== null && Number.isFinite(t) && t < this.freshSinceMs);
      this.opts.links.claim(user, ev as LinkEvent, seenMs, { silent: replay, file: f.path });
      return 0;
    }
    if (ev.type === 'login') {
      if (!this.opts.logins) return 0;
      // Like a link, bound to the file's owner; on a new index an old `login` is a spent code (never registered).
      const t = Date.parse(ev.ts);
      const replay = silent || (this.freshSinceMs !== null && Number.isFinite(t) && t < this.freshSinceMs);
      this.opts.logins.register(user, ev as LoginEvent, seenMs, { replay });
      return 0;
    }
    return 0;
  }

  private refuseForeignId(f: FileState, id: string, seenMs: number): void {
    this.problems.report(`foreign:${f.path}`, `event id ${id} belongs to another user's job — refused`, { user: f.spool.user, file: f.path, nowMs: seenMs });
  }

  private applyLegacyLine(f: FileState, text: string, seenMs: number): number {
    if (text.trim() === '') return 0;
    const r = parseLegacyLine(text, {});
    const user = f.spool.user;
    if (r.kind === 'invalid') {
      this.problems.report(`invalid:${f.path}`, `invalid legacy line: ${r.reason}`, { user, file: f.path, nowMs: seenMs });
      this.log.once(`invalid:${f.path}`, 'warn', 'invalid legacy line skipped', { user, file: f.path, reason: r.reason });
      return 0;
    }
    this.stats.events++;
    const silent = this.silent(r.ts);
    if (r.kind === 'start') {
      const id = legacyJobId(r.host, r.pid, r.ts);
      this.jobs.applyStart({ v: 1, type: 'start', id, ts: r.ts, user, host: r.host, src: 'legacy', pid: r.pid, pid_start: '', title: r.title }, user, seenMs);
      this.jobsChanged = true;
      return 0;
    }
    const open = this.jobs.findOpenLegacy(user, r.host, r.pid);
    const id = open?.id ?? legacyJobId(r.host, r.pid, r.ts);
    const wall = open?.startTs ? Math.max(0, (Date.parse(r.ts) - Date.parse(open.startTs)) / 1000) : 0;
    const job = this.jobs.applyEnd({ v: 1, type: 'end', id, ts: r.ts, user, host: r.host, src: 'legacy', exit: r.exit ?? null, wall_seconds: wall }, user, seenMs);
    if (!job) return 0;
    this.jobsChanged = true;
    return this.enqueuer.jobEnded(job, f.spool.config, seenMs, { silent });
  }

  /** For /healthz and doctor. */
  /** The config.toml of `user` (as last loaded), or the defaults when the user has none. */
  userConfig(user: string): UserConfig {
    for (const s of this.spools.values()) if (s.user === user) return s.config;
    return this.defaultUserConfig;
  }

  summary(): { spools: number; files: number; refused: number } {
    let refused = 0;
    for (const s of this.spools.values()) for (const f of s.files.values()) if (f.refused) refused++;
    return { spools: this.spools.size, files: this.fileCount(), refused };
  }
}
