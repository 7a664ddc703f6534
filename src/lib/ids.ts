// Ids: ULIDs (time-sortable, unique across hosts without coordination).
import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

/** A new ULID, e.g. 01JD3Q8Z7W8R3M2K9X4V5B6N7P. Monotonic within this process. */
export function newId(nowMs: number = Date.now()): string {
  return next(nowMs);
}

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export function isUlid(s: string): boolean {
  return ULID_RE.test(s);
}
