// The neutral message: what every command and notification produces, and what every front end
// (CLI, Discord, Slack, ntfy, e-mail, web) renders. Renderers must fit their service's limits by
// cutting parts, never by failing.

import type { Chart } from './chart.js';

export type Severity = 'success' | 'failure' | 'warning' | 'info';

export interface MessageField {
  name: string;
  value: string;
  /** Short fields may be shown side by side. */
  inline?: boolean;
}

/**
 * How a cell (or a title) reads at a glance, for front ends to colour in their own way (the CLI:
 * green / yellow / red / dim). Never parsed back out of the text.
 */
export type CellState = 'ok' | 'warn' | 'bad' | 'muted';

export interface MessageTable {
  columns: string[];
  rows: string[][];
  /** Parallel to `rows`: the state of each cell, null (or a short row) where it has none. */
  states?: (CellState | null)[][];
}

/**
 * A pointer to another command, in no front end's syntax: `{command: 'best', args: {slurm: true}}`
 * reads "`flurm best --slurm`" in the terminal and "/best slurm:true" in Discord. `text` holds the
 * sentence, with `{command}` where the command goes.
 */
export interface MessageHint {
  text: string;
  command: string;
  args?: Record<string, string | number | boolean>;
}

export interface Message {
  /** One line, e.g. "✗ train-resnet failed on gpu3". */
  title: string;
  severity: Severity;
  /** The result in words, e.g. "exit 3" or "killed by SIGKILL — likely out of memory". */
  summary?: string;
  fields?: MessageField[];
  /** Diagnosis lines: each names a pattern and quotes the matching line. */
  diagnosis?: { pattern: string; description: string; line: string; hint?: string }[];
  /** Last lines of the log, shown as a code block. */
  logTail?: string[];
  table?: MessageTable;
  /** Footer, e.g. "flurm · job 01J… · user@host". */
  footer?: string;
  /** Where to look next; rendered after the footer, in the front end's own command syntax. */
  hints?: MessageHint[];
  /** How the title reads (best: ok when a node fits, bad when none does). */
  titleState?: CellState | null;
  /** ISO time the message is about (job end). */
  timestamp?: string;
  /** A chart of what the message tells (history, heatmap): drawn by each front end (model/chart.ts). */
  chart?: Chart;
  /** Machine-readable payload for JSON front ends (job record etc.). */
  data?: Record<string, unknown>;
}

/** A hint's sentence with its command written as `commandText` (each front end's own syntax). */
export function hintText(h: MessageHint, commandText: string): string {
  return h.text.replace('{command}', commandText);
}
