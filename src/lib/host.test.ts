import { describe, expect, it } from 'vitest';
import { hostName, safeHostFileName, spoolDir } from './host.js';

describe('host', () => {
  it('FLURM_HOST overrides the host name so tests can pose as several hosts', () => {
    expect(hostName({ FLURM_HOST: 'gpu7' })).toBe('gpu7');
  });
  it('FLURM_SPOOL overrides the spool directory', () => {
    expect(spoolDir({ FLURM_SPOOL: '/tmp/x/spool', HOME: '/home/u' })).toBe('/tmp/x/spool');
    expect(spoolDir({ HOME: '/home/u' })).toBe('/home/u/.flurm');
  });
  it('host names become safe file names', () => {
    expect(safeHostFileName('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(safeHostFileName('')).toBe('unknown');
  });
});
