// Home directories from /etc/passwd, and `~/` / `~user/` in config paths.
import { describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { expandHomePath, homeOf, parsePasswd } from './users.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nlabadmin:x:1500:1500:Lab Admin:/home/labadmin:/bin/bash\nbroken:x\n';

describe('homes', () => {
  it('reads a home from passwd text; an unknown user has none', () => {
    expect(homeOf('labadmin', PASSWD)).toBe('/home/labadmin');
    expect(homeOf('nobody-here', PASSWD)).toBeNull();
    expect(homeOf('broken', PASSWD)).toBeNull();
    expect(parsePasswd(PASSWD).get(1500)).toBe('labadmin');
  });

  it('expands ~/, ~user/ (this machine\'s passwd) and a relative path', () => {
    expect(expandHomePath('~/papers.txt', '/etc')).toBe(path.join(os.homedir(), 'papers.txt'));
    expect(expandHomePath(`~${os.userInfo().username}/papers.txt`, '/etc')).toBe(path.join(os.homedir(), 'papers.txt'));
    expect(expandHomePath('~root/x', '/etc')).toBe('/root/x');
    expect(expandHomePath('lists/papers.txt', '/srv/flurm')).toBe('/srv/flurm/lists/papers.txt');
    expect(expandHomePath('/abs/papers.txt', '/srv/flurm')).toBe('/abs/papers.txt');
    expect(() => expandHomePath('~no-such-user-flurm/x', '/')).toThrow(/no home directory for user "no-such-user-flurm"/);
  });
});
