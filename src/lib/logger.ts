// A small leveled logger to stderr. `once(key, ...)` logs a given key a single time per process,
// for conditions that repeat every tick (unknown event type, refused file).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Log at `level` only the first time `key` is seen. */
  once(key: string, level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(opts: { level?: LogLevel; write?: (line: string) => void; name?: string } = {}): Logger {
  const min = ORDER[opts.level ?? ((process.env.FLURM_LOG_LEVEL as LogLevel | undefined) ?? 'info')] ?? ORDER.info;
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const seen = new Set<string>();
  const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${opts.name ? opts.name + ': ' : ''}${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        const s = typeof v === 'string' ? v : JSON.stringify(v);
        line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
      }
    }
    write(line);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    once: (key, level, m, f) => {
      if (seen.has(key)) return;
      if (seen.size > 10_000) seen.clear();
      seen.add(key);
      log(level, m, f);
    },
  };
}
