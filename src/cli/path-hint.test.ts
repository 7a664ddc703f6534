// `flurm up`'s PATH hint against a throw-away checkout, home and PATH.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot, pathHint } from './path-hint.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flurm-path-hint-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A checkout with its built executable, a home, and a directory with some other `flurm`.
const checkout = path.join(tmp, 'my checkout');
const self = path.join(checkout, 'dist', 'cli', 'flurm.cjs');
fs.mkdirSync(path.dirname(self), { recursive: true });
fs.writeFileSync(self, '#!/usr/bin/env node\n', { mode: 0o755 });
fs.writeFileSync(path.join(checkout, 'package.json'), '{"name":"flurm"}');
const home = path.join(tmp, 'home');
fs.mkdirSync(path.join(home, 'bin'), { recursive: true });
const elsewhere = path.join(tmp, 'elsewhere');
fs.mkdirSync(elsewhere);
fs.writeFileSync(path.join(elsewhere, 'flurm'), '#!/bin/sh\n', { mode: 0o755 });

describe('pathHint', () => {
  it('not on the PATH: one line that links it into ~/bin and puts ~/bin on the PATH', () => {
    const h = pathHint(self, { HOME: home, PATH: '/usr/bin:/bin' });
    expect(h).toEqual({ other: null, line: `mkdir -p ~/bin && ln -sf '${self}' ~/bin/flurm && export PATH="$HOME/bin:$PATH"` });
  });

  it('~/bin already on the PATH: the link alone', () => {
    expect(pathHint(self, { HOME: home, PATH: `/usr/bin:${home}/bin` })?.line).toBe(`mkdir -p ~/bin && ln -sf '${self}' ~/bin/flurm`);
  });

  it('npm start adds node_modules/.bin to the PATH; another terminal does not have it', () => {
    const npmBin = path.join(checkout, 'node_modules', '.bin');
    fs.mkdirSync(npmBin, { recursive: true });
    fs.symlinkSync(self, path.join(npmBin, 'flurm'));
    expect(pathHint(self, { HOME: home, PATH: `${npmBin}:/usr/bin` })?.other).toBeNull();
  });

  it('this flurm on the PATH (a symlink to it): no hint', () => {
    fs.symlinkSync(self, path.join(home, 'bin', 'flurm'));
    expect(pathHint(self, { HOME: home, PATH: `/usr/bin:${home}/bin` })).toBeNull();
  });

  it('another flurm first on the PATH: it is named, and ~/bin goes in front', () => {
    const h = pathHint(self, { HOME: home, PATH: `${elsewhere}:${home}/bin` });
    expect(h?.other).toBe(path.join(elsewhere, 'flurm'));
    expect(h?.line).toMatch(/ && export PATH="\$HOME\/bin:\$PATH"$/);
  });

  it('knows the checkout where `npx flurm` runs this one', () => {
    expect(packageRoot(self)).toBe(checkout);
    expect(packageRoot(path.join(elsewhere, 'flurm'))).toBeNull();
  });
});
