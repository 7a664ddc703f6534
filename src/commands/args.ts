// Argument kinds the commands share, as zod schemas with their help and units, so every front end
// (CLI options, the hub's JSON Schema, Discord options, MCP tools) reads the same names, types,
// units and wording of errors.
import { z } from 'zod';
import { sizeOf } from '../lib/size.js';

/** A whole number ≥ 1 (CPUs, GPUs, a row limit). */
export function count(help: string) {
  return z.number({ error: 'must be a positive integer' }).int('must be a positive integer').positive('must be a positive integer').describe(help);
}

/** A byte size as people type it ("32G", "500M", "1.5T", base 1024); the command converts it with bytesOf(). */
export function size(help: string) {
  return z
    .string()
    .superRefine((v, ctx) => {
      const r = sizeOf(v);
      if ('problem' in r) ctx.addIssue({ code: 'custom', message: r.problem });
    })
    .meta({ format: 'size', unit: 'bytes (base 1024; K, M, G, T suffixes)' })
    .describe(help);
}

/** A node's host name: a word ssh and SLURM cannot mistake for an option. Chat front ends offer the live cluster's nodes. */
export function hostName(help: string) {
  return z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, 'is not a host name').meta({ autocomplete: 'node' }).describe(help);
}

/** A unix user name. */
export function userName(help: string) {
  return z.string().regex(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/, 'is not a user name').describe(help);
}

/** A size already checked by size(): its bytes. */
export function bytesOf(text: string): number {
  const r = sizeOf(text);
  if ('problem' in r) throw new Error(r.problem);
  return r.bytes;
}
