/**
 * `TaskPolicy.maxDurationMs` while the client waits on a task: a signal that fires on the
 * caller's abort or at the deadline, and the cancel-then-fail that follows a deadline.
 * @module
 */
import { PolicyViolation } from "./errors.ts";

/** A task's time limit, started at construction. Dispose it to clear its timer. */
export class TaskDeadline implements Disposable {
  readonly #timeout = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #maxDurationMs: number | undefined;
  /** Aborts on the caller's signal or when the time limit passes. */
  readonly signal: AbortSignal;

  constructor(maxDurationMs: number | undefined, remainingMs: number | undefined, signal?: AbortSignal) {
    this.#maxDurationMs = maxDurationMs;
    if (remainingMs !== undefined) this.#timer = setTimeout(() => this.#timeout.abort(), Math.max(0, remainingMs));
    this.signal = signal ? AbortSignal.any([signal, this.#timeout.signal]) : this.#timeout.signal;
  }

  /** True once the time limit has passed. */
  get expired(): boolean {
    return this.#timeout.signal.aborted;
  }

  /**
   * Cancels the task when its id is known (best effort: the caller is told about the
   * deadline either way) and throws `PolicyViolation`.
   */
  async fail(taskId: string | undefined, cancel: (taskId: string) => Promise<unknown>): Promise<never> {
    if (taskId !== undefined) await cancel(taskId).catch(() => undefined);
    const outcome = taskId === undefined ? "was abandoned before the peer named it" : `(task ${taskId}) was canceled`;
    throw new PolicyViolation(`a task ran longer than maxDurationMs=${this.#maxDurationMs} and ${outcome}`);
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
  }
}
