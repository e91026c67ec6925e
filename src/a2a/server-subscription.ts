/**
 * One subscriber's view of a task's update log: ordered delivery that ends after the last
 * update it wants, or at once when the subscriber goes away.
 * @module
 */
import type { TaskUpdate } from "./types.ts";

/** One recorded update and its sequence number. */
export interface LoggedUpdate {
  seq: number;
  update: TaskUpdate;
}

/**
 * Delivers updates in order to one subscriber, ending after the update `isLast` accepts or
 * at `close()` — which also ends a pending `next()` at once, so a dropped client releases
 * its subscription even when the task is silent.
 */
export class Subscription implements AsyncIterableIterator<LoggedUpdate> {
  readonly #queue: LoggedUpdate[] = [];
  readonly #isLast: (update: TaskUpdate) => boolean;
  readonly #onClose: () => void;
  #wake: (() => void) | undefined;
  #ending = false;
  #closed = false;

  constructor(isLast: (update: TaskUpdate) => boolean, onClose: () => void) {
    this.#isLast = isLast;
    this.#onClose = onClose;
  }

  push(entry: LoggedUpdate): void {
    if (this.#ending || this.#closed) return;
    this.#queue.push(entry);
    if (this.#isLast(entry.update)) this.#ending = true;
    this.#wake?.();
  }

  async next(): Promise<IteratorResult<LoggedUpdate>> {
    while (this.#queue.length === 0 && !this.#ending && !this.#closed) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const entry = this.#closed ? undefined : this.#queue.shift();
    if (entry) return { done: false, value: entry };
    this.close();
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<LoggedUpdate>> {
    this.close();
    return { done: true, value: undefined };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.#onClose();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

