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
    s.putSpool({ user: 'alice', chat: 'discord', account: A, eventId: '01J0000000000000000000000A', host: 'node3', linkedMs: 1000 });
    expect(s.effective('alice', 'discord')).toMatchObject({ user: 'alice', source: 'spool', account: A, host: 'node3', linked_ms: 1000 });
    expect(s.effectiveByAccount('discord', A)?.user).toBe('alice');
    s.markUnlinked('alice', 'discord', '01J0000000000000000000000B', 2000);
    expect(s.effective('alice', 'discord')).toBeUndefined();
    expect(s.effectiveByAccount('discord', A)).toBeUndefined();
    expect(s.row('alice', 'spool', 'discord')).toMatchObject({ account: null, event_id: '01J0000000000000000000000B' });
    expect(s.listEffective()).toEqual([]);
  });

  it('the hub config wins over a spool link, by user and by Discord account', () => {
    const s = new LinkStore(db);
    s.putSpool({ user: 'alice', chat: 'discord', account: A, eventId: '01J0000000000000000000000A', host: 'node3', linkedMs: 1000 });
    s.putSpool({ user: 'bob', chat: 'discord', account: B, eventId: '01J0000000000000000000000B', host: 'node1', linkedMs: 1000 });
    s.replaceConfig([{ user: 'carol', chat: 'discord', account: A }], 5000);
    // A is carol's by the config: alice's spool link to A is not in effect; bob's is untouched.
    expect(s.effective('alice', 'discord')).toBeUndefined();
    expect(s.effectiveByAccount('discord', A)).toMatchObject({ user: 'carol', source: 'config' });
    expect(s.listEffective().map((r) => `${r.user}=${r.account}`)).toEqual([`bob=${B}`, `carol=${A}`]);
    // The admin removes the config link at a restart: alice's own link is back.
    s.replaceConfig([], 6000);
    expect(s.effective('alice', 'discord')?.account).toBe(A);
  });

  it('re-applying the same config keeps when each pairing was made', () => {
    const s = new LinkStore(db);
    expect(s.replaceConfig([{ user: 'alice', chat: 'discord', account: A }], 1000)).toEqual({ added: 1, removed: 0 });
    expect(s.replaceConfig([{ user: 'alice', chat: 'discord', account: A }, { user: 'bob', chat: 'discord', account: B }], 9000)).toEqual({ added: 1, removed: 0 });
    expect(s.effective('alice', 'discord')?.linked_ms).toBe(1000);
    expect(s.replaceConfig([{ user: 'bob', chat: 'discord', account: B }], 9500)).toEqual({ added: 0, removed: 1 });
    expect(s.effective('alice', 'discord')).toBeUndefined();
  });

  it('a user\'s Discord and Slack links are separate rows: one ends, the other stays; the same id in two chats is two accounts', () => {
    const s = new LinkStore(db);
    s.putSpool({ user: 'alice', chat: 'discord', account: A, eventId: '01J0000000000000000000000A', host: 'node3', linkedMs: 1000 });
    s.putSpool({ user: 'alice', chat: 'slack', account: 'U0123ABCDEF', eventId: '01J0000000000000000000000B', host: 'node3', linkedMs: 1500 });
    s.replaceConfig([{ user: 'bob', chat: 'slack', account: 'U0BOB' }], 2000);
    expect(s.effectiveOf('alice').map((r) => `${r.chat}=${r.account}`)).toEqual([`discord=${A}`, 'slack=U0123ABCDEF']);
    expect(s.effectiveByAccount('slack', 'U0123ABCDEF')?.user).toBe('alice');
    expect(s.effectiveByAccount('slack', A)).toBeUndefined();
    s.markUnlinked('alice', 'slack', '01J0000000000000000000000C', 3000);
    expect(s.effectiveOf('alice').map((r) => r.chat)).toEqual(['discord']);
    // A config link in Slack does not override anyone's Discord link.
    s.replaceConfig([{ user: 'alice', chat: 'slack', account: 'U0ALICE' }], 4000);
    expect(s.effectiveOf('alice').map((r) => `${r.chat}=${r.account}:${r.source}`)).toEqual([`discord=${A}:spool`, 'slack=U0ALICE:config']);
  });

  it('records each used code once, with the event that used it', () => {
    const s = new LinkStore(db);
    expect(s.codeUse('C0DE')).toBeUndefined();
    s.markCodeUsed('C0DE', 'alice', '01J0000000000000000000000A', 1000);
    s.markCodeUsed('C0DE', 'bob', '01J0000000000000000000000B', 2000);
    expect(s.codeUse('C0DE')).toEqual({ user: 'alice', event_id: '01J0000000000000000000000A', used_ms: 1000 });
  });
});
