// The links table over a real index file: which link is in effect when the spool and the hub
// config disagree, and what a config change at a restart keeps.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from './db.js';
import { LinkStore } from './links.js';

let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-links-store-'));
  db = openDb(path.join(dir, 'index.db'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const A = '111111111111111111';
const B = '222222222222222222';

describe('LinkStore', () => {
  it('a spool link is in effect until unlinked; the unlink stays as a marker', () => {
    const s = new LinkStore(db);
    s.putSpool({ user: 'alice', discordId: A, eventId: '01J0000000000000000000000A', host: 'node3', linkedMs: 1000 });
    expect(s.effective('alice')).toMatchObject({ user: 'alice', source: 'spool', discord_id: A, host: 'node3', linked_ms: 1000 });
    expect(s.effectiveByDiscord(A)?.user).toBe('alice');
    s.markUnlinked('alice', '01J0000000000000000000000B', 2000);
    expect(s.effective('alice')).toBeUndefined();
    expect(s.effectiveByDiscord(A)).toBeUndefined();
    expect(s.row('alice', 'spool')).toMatchObject({ discord_id: null, event_id: '01J0000000000000000000000B' });
    expect(s.listEffective()).toEqual([]);
  });

  it('the hub config wins over a spool link, by user and by Discord account', () => {
    const s = new LinkStore(db);
    s.putSpool({ user: 'alice', discordId: A, eventId: '01J0000000000000000000000A', host: 'node3', linkedMs: 1000 });
    s.putSpool({ user: 'bob', discordId: B, eventId: '01J0000000000000000000000B', host: 'node1', linkedMs: 1000 });
    s.replaceConfig([{ user: 'carol', discordId: A }], 5000);
    // A is carol's by the config: alice's spool link to A is not in effect; bob's is untouched.
    expect(s.effective('alice')).toBeUndefined();
    expect(s.effectiveByDiscord(A)).toMatchObject({ user: 'carol', source: 'config' });
    expect(s.listEffective().map((r) => `${r.user}=${r.discord_id}`)).toEqual([`bob=${B}`, `carol=${A}`]);
    // The admin removes the config link at a restart: alice's own link is back.
    s.replaceConfig([], 6000);
    expect(s.effective('alice')?.discord_id).toBe(A);
  });

  it('re-applying the same config keeps when each pairing was made', () => {
    const s = new LinkStore(db);
    expect(s.replaceConfig([{ user: 'alice', discordId: A }], 1000)).toEqual({ added: 1, removed: 0 });
    expect(s.replaceConfig([{ user: 'alice', discordId: A }, { user: 'bob', discordId: B }], 9000)).toEqual({ added: 1, removed: 0 });
    expect(s.effective('alice')?.linked_ms).toBe(1000);
    expect(s.replaceConfig([{ user: 'bob', discordId: B }], 9500)).toEqual({ added: 0, removed: 1 });
    expect(s.effective('alice')).toBeUndefined();
  });

  it('records each used code once, with the event that used it', () => {
    const s = new LinkStore(db);
    expect(s.codeUse('C0DE')).toBeUndefined();
    s.markCodeUsed('C0DE', 'alice', '01J0000000000000000000000A', 1000);
    s.markCodeUsed('C0DE', 'bob', '01J0000000000000000000000B', 2000);
    expect(s.codeUse('C0DE')).toEqual({ user: 'alice', event_id: '01J0000000000000000000000A', used_ms: 1000 });
  });
});
