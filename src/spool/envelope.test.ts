import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { envelope, jobCost, jobDescription, writerOrigin } from './envelope.js';
import { serializeEvent } from './writer.js';
import { parseEventLine } from './validate.js';
import type { NoteEvent, StartEvent } from './events.js';
import { isUlid } from '../lib/ids.js';

const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, '../../test/fixtures/spools', name), 'utf8').split('\n');

describe('envelope', () => {
  it('writes the common fields in the order of the bash writer and the fixtures, byte for byte', () => {
    const [startLine, noteLine] = fixture('node/events/gpu1.jsonl');
    const who = { id: '01JD3Q8Z7W8R3M2K9X4V5B6N7P', ts: '2024-11-20T09:14:03.512Z', user: 'alice', host: 'gpu1' };
    const start: StartEvent = {
      ...envelope('start', who),
      pid: 48213,
      pid_start: '9120443',
      cwd: '/home/alice/proj',
      ...jobDescription({ title: 'train resnet [fold 3]', cmd: 'python train.py --fold 3', to: [] }),
    };
    expect(serializeEvent(start)).toBe(startLine + '\n');
    const note: NoteEvent = {
      ...envelope('note', { id: '01JD3QA1V2K8M4N5P6Q7R8S9T0', ts: '2024-11-20T09:15:44.001Z', user: 'alice', host: 'gpu1' }),
      ...jobDescription({ title: 'checkpoint' }),
      message: 'epoch 10 done: loss 0.213 "ok" ✓',
    };
    expect(serializeEvent(note)).toBe(noteLine + '\n');
    const bashKeys = Object.keys(JSON.parse(fixture('bash/events/ws2.jsonl')[0]!)).slice(0, 7);
    expect(Object.keys(envelope('end', who))).toEqual(bashKeys);
  });

  it('makes a new ULID and the current time when none is given, and the result is a valid event', () => {
    const before = Date.now();
    const e = envelope('note', writerOrigin({ FLURM_HOST: 'h1' }));
    expect(isUlid(e.id)).toBe(true);
    expect(Date.parse(e.ts)).toBeGreaterThanOrEqual(before - 1);
    expect(e).toMatchObject({ v: 1, type: 'note', host: 'h1', src: 'node' });
    expect(parseEventLine(serializeEvent({ ...e, message: 'hi' }))).toMatchObject({ kind: 'event', unknownFields: [] });
  });

  it('jobDescription keeps only what is there, in the order title, cmd, to', () => {
    expect(jobDescription({})).toEqual({});
    expect(jobDescription({ title: undefined, cmd: 'x', to: [] })).toEqual({ cmd: 'x' });
    expect(Object.keys(jobDescription({ to: ['a'], cmd: '', title: 't' }))).toEqual(['title', 'cmd', 'to']);
  });

  it('jobCost rounds wall time to the ms and CPU time to 1/100 s, and keeps unknowns null', () => {
    expect(jobCost(6494.41849, 25811.2049, 21474836480)).toEqual({ wall_seconds: 6494.418, cpu_seconds: 25811.2, peak_rss_bytes: 21474836480 });
    expect(jobCost(0.0004, null, null)).toEqual({ wall_seconds: 0, cpu_seconds: null, peak_rss_bytes: null });
  });
});
