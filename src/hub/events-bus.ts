// The hub's in-process event bus: "something a page shows has changed". Payload-free on purpose:
// a listener (the dashboard's SSE stream, hub/http/stream.ts) re-reads the API it already has, so
// no second shape of nodes, jobs or SLURM exists. Emitters: NodeWatcher (a snapshot accepted, a
// state changed), the ingest (a job started or ended), the SLURM poller (its view changed, a job
// ended). Listeners are called synchronously and must not throw into the emitter.
export type HubEventKind = 'nodes' | 'jobs' | 'slurm';

export const HUB_EVENT_KINDS: readonly HubEventKind[] = ['nodes', 'jobs', 'slurm'];

export type HubEventListener = (kind: HubEventKind) => void;

export class EventBus {
  private readonly listeners = new Map<HubEventKind, Set<HubEventListener>>();
  private readonly closers = new Set<() => void>();

  /** Listen to one kind; the answer removes the listener (idempotent). */
  on(kind: HubEventKind, fn: HubEventListener): () => void {
    let set = this.listeners.get(kind);
    if (!set) this.listeners.set(kind, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  emit(kind: HubEventKind): void {
    const set = this.listeners.get(kind);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(kind);
      } catch {
        // A listener's failure is its own (a closed stream); the hub's work goes on.
      }
    }
  }

  /** Called once by close(): long-lived listeners (open streams) end themselves there. */
  onClose(fn: () => void): () => void {
    this.closers.add(fn);
    return () => {
      this.closers.delete(fn);
    };
  }

  /** The hub stops: every stream ends, so the HTTP server can close. */
  close(): void {
    for (const fn of [...this.closers]) {
      try {
        fn();
      } catch {
        // ignore: closing anyway
      }
    }
    this.closers.clear();
  }

  /** Listeners of a kind (tests: no leak after disconnects). */
  listenerCount(kind?: HubEventKind): number {
    if (kind) return this.listeners.get(kind)?.size ?? 0;
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
}
