import { describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import { MuteStore, WhenFreeStore } from './bot.js';

describe('mutes', () => {
  it('holds until its end; a later mute extends, an earlier one does not shorten', () => {
    const m = new MuteStore(openDb(':memory:'));
    expect(m.mutedUntil('alice', 1000)).toBeNull();
    m.mute('alice', 5000, '1180000000000001001');
    expect(m.mutedUntil('alice', 1000)).toBe(5000);
    m.mute('alice', 3000, null);
    expect(m.mutedUntil('alice', 1000)).toBe(5000);
    expect(m.mutedUntil('alice', 5000)).toBeNull();
    expect(m.mutedUntil('bob', 1000)).toBeNull();
    expect(m.unmute('alice')).toBe(true);
  });
});

describe('/when-free requests', () => {
  it('fire once, are cancelled only by their owner, and list only open ones', () => {
    const w = new WhenFreeStore(openDb(':memory:'));
    const a = w.add('111111111111111111', 'alice', { gpus: 2 }, 1000, 86_400_000);
    const b = w.add('111111111111111111', 'alice', { mem: '64G' }, 1000, 86_400_000);
    w.add('222222222222222222', null, { cpus: 8 }, 1000, 86_400_000);
    expect(a.expires_ms).toBe(1000 + 86_400_000);
    expect(w.open('111111111111111111').map((r) => r.args)).toEqual([{ gpus: 2 }, { mem: '64G' }]);
    expect(w.close(a.id, 'fired', 2000)).toBe(true);
    expect(w.close(a.id, 'fired', 3000)).toBe(false);
    expect(w.cancel('222222222222222222', b.id, 2000)).toBe(0);
    expect(w.cancel('111111111111111111', b.id, 2000)).toBe(1);
    expect(w.open('111111111111111111')).toEqual([]);
    expect(w.cancel('222222222222222222', null, 2000)).toBe(1);
    expect(w.open()).toEqual([]);
  });
});
