// Typed errors. Code throws these; only cli/index.ts maps them to exit codes and messages.

/** An error the user can act on: the message names what is wrong and, where possible, the fix. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options);
    this.exitCode = options?.exitCode ?? 2;
  }
  readonly exitCode: number;
}

/** Bad configuration: `path` is the field path ("routes[1].to[0]") the message is about. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  constructor(readonly path: string, message: string, options?: { cause?: unknown; file?: string }) {
    super(`${options?.file ? options.file + ': ' : ''}${path ? path + ': ' : ''}${message}`, options);
  }
}

/** A notification destination failed. `retryable` false means: stop trying this destination. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  readonly status: number | undefined;
  readonly retryable: boolean;
  /** Seconds the service asked us to wait (HTTP 429 Retry-After, Discord retry_after). */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    message: string,
    opts: { status?: number; retryable: boolean; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(message, { cause: opts.cause });
    this.status = opts.status;
    this.retryable = opts.retryable;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** A server answered a request with a non-2xx status; `body` is what it said (bounded). */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly url: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${url}: HTTP ${status}`);
  }
}

/** An external command failed, timed out or printed too much (lib/exec.ts). */
export class ExecError extends Error {
  override name = 'ExecError';
  constructor(
    message: string,
    readonly details: { command: string; exitCode?: number | null; signal?: string | null; stderr?: string; timedOut?: boolean },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
