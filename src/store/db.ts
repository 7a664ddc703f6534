// The index: SQLite (better-sqlite3) on local disk. Schema migrations are an append-only list
// applied by PRAGMA user_version. Everything here can be rebuilt from the spools; receipts in the
// cluster dir keep "already sent" across a rebuild or a hub on another node.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { assertLocalDisk } from './local-disk.js';

export type Db = Database.Database;

const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- One row per ingested file: where we are in it.
  CREATE TABLE files (
    path TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    kind TEXT NOT NULL,              -- events | legacy
    inode INTEGER,
    offset INTEGER NOT NULL DEFAULT 0,
    skipping INTEGER NOT NULL DEFAULT 0,
    refused TEXT,                    -- why the file is refused (symlink, owner...), or NULL
    updated_ms INTEGER NOT NULL
  );
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    host TEXT NOT NULL,
    state TEXT NOT NULL,             -- running | succeeded | failed | unknown | vanished
    title TEXT, cmd TEXT, cwd TEXT, pid INTEGER, pid_start TEXT,
    start_ts TEXT, end_ts TEXT,
    exit INTEGER, signal TEXT, exit_unknown INTEGER NOT NULL DEFAULT 0,
    wall_seconds REAL, cpu_seconds REAL, peak_rss_bytes INTEGER,
    tail_json TEXT, log TEXT,
    detached INTEGER NOT NULL DEFAULT 0, attached INTEGER NOT NULL DEFAULT 0,
    src TEXT, to_json TEXT, extra_json TEXT,
    seen_start_ms INTEGER, seen_end_ms INTEGER
  );
  CREATE INDEX jobs_user_start ON jobs(user, start_ts);
  CREATE INDEX jobs_state ON jobs(state);
  CREATE INDEX jobs_host_pid ON jobs(host, pid);
  CREATE TABLE notes (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, host TEXT NOT NULL, ts TEXT NOT NULL,
    title TEXT, message TEXT NOT NULL, seen_ms INTEGER NOT NULL
  );
  -- A notification is a row first and a request second.
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,         -- <event id>:<type>:<destination> — exactly one per destination
    user TEXT NOT NULL,
    ref_id TEXT NOT NULL,             -- job or note id
    dest TEXT NOT NULL,               -- full destination URL (secrets: index is local, 0600)
    dest_redacted TEXT NOT NULL,
    message_json TEXT NOT NULL,       -- the neutral Message, fixed at enqueue time
    status TEXT NOT NULL,             -- pending | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    next_ms INTEGER NOT NULL,
    sent_ms INTEGER,
    last_error TEXT,
    event_ms INTEGER NOT NULL         -- when the hub saw the event (latency accounting)
  );
  CREATE INDEX outbox_due ON outbox(status, next_ms);
  -- Destinations we gave up on (401/404...), shown by doctor and the log.
  CREATE TABLE dest_state (
    dest TEXT PRIMARY KEY,
    dest_redacted TEXT NOT NULL,
    disabled_reason TEXT,
    disabled_ms INTEGER,
    last_ok_ms INTEGER,
    last_error TEXT
  );
  -- Things a user should hear about: refused files, invalid lines (bounded, counted).
  CREATE TABLE problems (
    key TEXT PRIMARY KEY, user TEXT, file TEXT, reason TEXT NOT NULL,
    first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 1
  );
  `,
  `
  -- Latest snapshot of each node, and what the hub concluded from it.
  CREATE TABLE nodes (
    host TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    snapshot_json TEXT NOT NULL,
    writer_uid INTEGER,
    changed_ms INTEGER NOT NULL,     -- hub wall clock when seq last changed (display only)
    idle_since_ms INTEGER,           -- hub wall clock since when the node has been idle
    down INTEGER NOT NULL DEFAULT 0, -- 1 while the node is judged down (survives a restart)
    problem TEXT                     -- why the latest file was refused, or NULL
  );
  -- History for charts: averages per bucket (1 minute and 1 hour), downsampled as written.
  CREATE TABLE node_samples (
    host TEXT NOT NULL,
    resolution_seconds INTEGER NOT NULL,
    bucket_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    load1_sum REAL NOT NULL, load5_sum REAL NOT NULL, load1_max REAL NOT NULL,
    cpus INTEGER NOT NULL,
    cpu_busy_sum REAL NOT NULL, cpu_busy_n INTEGER NOT NULL,
    mem_used_sum REAL NOT NULL, mem_total_bytes INTEGER NOT NULL,
    gpu_util_sum REAL NOT NULL, gpu_util_n INTEGER NOT NULL,
    gpu_mem_used_sum REAL NOT NULL, gpu_mem_total_bytes INTEGER NOT NULL,
    gpus INTEGER NOT NULL, users_max INTEGER NOT NULL,
    PRIMARY KEY (host, resolution_seconds, bucket_ms)
  ) WITHOUT ROWID;
  -- Alert state per (node, condition): hysteresis and cool-down survive a restart.
  CREATE TABLE alerts (
    key TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0,
    fired_ms INTEGER,
    cleared_ms INTEGER
  );
  `,
  `
  -- SLURM batch jobs the hub watches (one row per flurm job; an array is one row). The job
  -- itself is a row of jobs (src 'slurm'); this holds what the poller needs to resume after a
  -- restart: no per-job daemon, the index is the whole state.
  CREATE TABLE slurm_jobs (
    id TEXT PRIMARY KEY,               -- flurm job id (jobs.id)
    user TEXT NOT NULL,
    owner_uid INTEGER,                 -- uid of the spool the event came from: log tails are read only from files it owns
    job_id TEXT NOT NULL,              -- SLURM job id; the array's job id for an array
    cluster TEXT NOT NULL DEFAULT '',  -- '' when sbatch did not say
    array_spec TEXT,                   -- --array as given; NULL for a plain job
    tasks INTEGER,                     -- number of array tasks; NULL for a plain job
    name TEXT,                         -- the job name (%x)
    partition TEXT,
    work_dir TEXT,                     -- where sbatch ran
    output TEXT,                       -- absolute filename patterns, expanded per task by the hub
    error TEXT,
    slurm_state TEXT,                  -- latest state seen (squeue, then the final record)
    node_list TEXT,
    info_json TEXT,                    -- latest squeue facts (partition, cpus, memory, times...)
    registered_ms INTEGER NOT NULL,    -- hub wall clock when the event was ingested
    left_queue_ms INTEGER,             -- first poll that found it final or gone from squeue
    final_attempts INTEGER NOT NULL DEFAULT 0,
    next_final_ms INTEGER,             -- when to ask sacct/scontrol again (backoff while sacct lags)
    silent INTEGER NOT NULL DEFAULT 0, -- registered from a backfill (old event on a new index): end recorded, not sent
    done INTEGER NOT NULL DEFAULT 0    -- 1 once the end was made (and its messages queued)
  );
  CREATE UNIQUE INDEX slurm_jobs_key ON slurm_jobs(user, cluster, job_id);
  CREATE INDEX slurm_jobs_open ON slurm_jobs(done, job_id);
  `,
  `
  -- Each destination is its own queue, served in event order (id): a retry holds the head row.
  -- Rows past the per-user cap wait for their minute's window to close (digest_ms), then go
  -- out as one digest per (destination, user, window) instead of being dropped.
  ALTER TABLE outbox ADD COLUMN digest_ms INTEGER;
  CREATE INDEX outbox_dest_queue ON outbox(dest, status, id);
  `,
  `
  -- Links between unix users and Discord accounts (docs/linking.md), store/links.ts. A 'spool' row
  -- comes from the user's own \`link\` events (the spool is the truth: a rebuild replays them); its
  -- discord_id is NULL once unlinked, kept as a marker so that an older event read later (another
  -- host's file, a file read again) does not bring the link back. 'config' rows are the hub
  -- config's [users.NAME] discord, rewritten at every start; they win over spool rows.
  CREATE TABLE links (
    user TEXT NOT NULL,
    source TEXT NOT NULL,            -- spool | config
    discord_id TEXT,                 -- NULL: unlinked (spool rows only)
    event_id TEXT,                   -- spool: id (ULID) of the event that last set the row
    host TEXT,                       -- spool: where \`flurm link\` ran
    linked_ms INTEGER NOT NULL,      -- when the link was made (hub clock; a replayed one: the event's ts)
    PRIMARY KEY (user, source)
  );
  -- One Discord account per unix user and source; between sources the config wins (store/links.ts).
  CREATE UNIQUE INDEX links_discord ON links(source, discord_id) WHERE discord_id IS NOT NULL;
  -- Each code links once: the codes that did, and the event that used each.
  CREATE TABLE link_codes (
    code TEXT PRIMARY KEY,           -- the code's 29 characters, normalised
    user TEXT NOT NULL,
    event_id TEXT NOT NULL,
    used_ms INTEGER NOT NULL
  );
  `,
  `
  -- The Discord bot's hub-side state (docs/discord.md). Mutes: "Mute 1 h" under a failure DM
  -- holds that user's messages (not --to) until until_ms. when_free: /when-free requests, each
  -- answered by one DM when a node fits (fired_ms), or dropped after a day (expires_ms).
  CREATE TABLE mutes (user TEXT PRIMARY KEY, until_ms INTEGER NOT NULL, by TEXT);
  CREATE TABLE when_free (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    discord_id TEXT NOT NULL,
    user TEXT,
    args_json TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    done_ms INTEGER,
    done TEXT                          -- fired | cancelled | expired
  );
  CREATE INDEX when_free_open ON when_free(done, expires_ms);
  `,
  `
  -- Set just before a request goes out, cleared with its outcome: a row found with it set was in
  -- flight when the hub died, so the destination may already have it (Slack DMs look first).
  ALTER TABLE outbox ADD COLUMN sending_ms INTEGER;
  `,
  `
  -- Links to Slack accounts too: a row per (user, source, chat), its \`account\` the chat's user id
  -- (Discord's decimal snowflake, Slack's U…). The Discord rows carry over.
  CREATE TABLE links_v2 (
    user TEXT NOT NULL,
    source TEXT NOT NULL,            -- spool | config
    chat TEXT NOT NULL,              -- discord | slack
    account TEXT,                    -- NULL: unlinked (spool rows only)
    event_id TEXT,                   -- spool: id (ULID) of the event that last set the row
    host TEXT,                       -- spool: where \`flurm link\` ran
    linked_ms INTEGER NOT NULL,
    PRIMARY KEY (user, source, chat)
  );
  INSERT INTO links_v2 (user, source, chat, account, event_id, host, linked_ms)
    SELECT user, source, 'discord', discord_id, event_id, host, linked_ms FROM links;
  DROP TABLE links;
  ALTER TABLE links_v2 RENAME TO links;
  -- One chat account per unix user, chat and source; between sources the config wins (store/links.ts).
  CREATE UNIQUE INDEX links_account ON links(source, chat, account) WHERE account IS NOT NULL;
  `,
  `
  -- History (store/history.ts, docs/history.md). Each node's state per bucket, counted once per
  -- hub pass (a down node writes nothing: only the hub can say it was down).
  ALTER TABLE node_samples ADD COLUMN fresh_n INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE node_samples ADD COLUMN stale_n INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE node_samples ADD COLUMN down_n INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE gpu_samples (
    host TEXT NOT NULL, gpu INTEGER NOT NULL, resolution_seconds INTEGER NOT NULL, bucket_ms INTEGER NOT NULL,
    n INTEGER NOT NULL, util_sum REAL NOT NULL, util_n INTEGER NOT NULL, mem_used_sum REAL NOT NULL, mem_total_bytes INTEGER NOT NULL,
    PRIMARY KEY (host, gpu, resolution_seconds, bucket_ms)
  ) WITHOUT ROWID;
  CREATE TABLE slurm_samples (
    partition TEXT NOT NULL, resolution_seconds INTEGER NOT NULL, bucket_ms INTEGER NOT NULL, n INTEGER NOT NULL,
    idle_sum REAL NOT NULL, mixed_sum REAL NOT NULL, allocated_sum REAL NOT NULL, down_sum REAL NOT NULL,
    cpus_alloc_sum REAL NOT NULL, cpus_total INTEGER NOT NULL, gpus_alloc_sum REAL NOT NULL, gpus_total INTEGER NOT NULL,
    jobs_running_sum REAL NOT NULL, jobs_pending_sum REAL NOT NULL,
    PRIMARY KEY (partition, resolution_seconds, bucket_ms)
  ) WITHOUT ROWID;
  CREATE TABLE slurm_node_samples (
    node TEXT NOT NULL, resolution_seconds INTEGER NOT NULL, bucket_ms INTEGER NOT NULL,
    idle_n INTEGER NOT NULL DEFAULT 0, mixed_n INTEGER NOT NULL DEFAULT 0, allocated_n INTEGER NOT NULL DEFAULT 0, down_n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node, resolution_seconds, bucket_ms)
  ) WITHOUT ROWID;
  -- Per user per hour: usage × the seconds each sample stands for, on agent nodes and on SLURM.
  CREATE TABLE user_usage (
    user TEXT NOT NULL, source TEXT NOT NULL, bucket_ms INTEGER NOT NULL,
    core_seconds REAL NOT NULL, gpu_seconds REAL NOT NULL, mem_byte_seconds REAL NOT NULL,
    PRIMARY KEY (user, source, bucket_ms)
  ) WITHOUT ROWID;
  `,
  `
  -- Sign-in (docs/access.md, store/sessions.ts). login_codes: the hashes \`flurm dashboard\` wrote
  -- into a user's spool, bound to the spool file's owner; a code whose hash came from two users'
  -- spools is contested and signs no one in. sessions: browser sessions and bearer tokens, only
  -- their hashes.
  CREATE TABLE login_codes (
    hash TEXT PRIMARY KEY, user TEXT NOT NULL, event_id TEXT NOT NULL, host TEXT NOT NULL,
    registered_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, used_ms INTEGER, contested INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX login_codes_expires ON login_codes(expires_ms);
  CREATE TABLE sessions (
    hash TEXT PRIMARY KEY, user TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('session', 'token')),
    created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, ended_ms INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX sessions_expires ON sessions(expires_ms);
  `,
];

export function openDb(file: string, opts: { readonly?: boolean; skipLocalCheck?: boolean } = {}): Db {
  if (file !== ':memory:') {
    if (!opts.skipLocalCheck) assertLocalDisk(file);
    if (!opts.readonly) fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  }
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  if (!opts.readonly) {
    if (file !== ':memory:') fs.chmodSync(file, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  }
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export function getMeta(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

/**
 * Run `fn` in one SQLite transaction (nested calls become savepoints): the store writes it makes,
 * through any store module, land together or not at all. Returns what `fn` returns.
 */
export function inTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn)();
}
