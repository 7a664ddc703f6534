// The neutral message: what every command and notification produces, and what every front end
// (CLI, Discord, Slack, ntfy, e-mail, web) renders. Renderers must fit their service's limits by
// cutting parts, never by failing.

export type Severity = 'success' | 'failure' | 'warning' | 'info';

export interface MessageField {
  name: string;
  value: string;
  /** Short fields may be shown side by side. */
  inline?: boolean;
}

export interface MessageTable {
  columns: string[];
  rows: string[][];
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
  /** ISO time the message is about (job end). */
  timestamp?: string;
  /** Machine-readable payload for JSON front ends (job record etc.). */
  data?: Record<string, unknown>;
}
