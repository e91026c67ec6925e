/**
 * Native handles and off-thread jobs.
 *
 * Handles are freed exactly once: by `close()` / `using`, or by a
 * FinalizationRegistry when the owner was dropped without closing.
 *
 * Jobs run on native worker threads that never call into JavaScript. A
 * finished job queues its token and writes a byte to a wake-up pipe; one
 * outstanding read on that pipe (issued only while jobs are pending, so it
 * keeps the process alive exactly as long as needed) wakes us to drain the
 * queue and settle the matching promises.
 */
import type { Pointer } from "bun:ffi";
import { read } from "node:fs";
import { ClosedError } from "./errors.ts";
import { check, lib, outPointer, statusError, lastError, type ErrorArea } from "./ffi.ts";

interface Owned {
  ptr: Pointer;
  free: (ptr: Pointer) => number;
}

// Module-global on purpose: a registry held only by a local can be collected
// together with its registrations.
const registry = new FinalizationRegistry<Owned>((owned) => owned.free(owned.ptr));

/** An owned native pointer, released by `close()` or, as a safety net, by GC. */
export class NativeHandle {
  #owned: Owned | undefined;
  #closedBy: "close" | "using" = "close";
  readonly #what: string;

  constructor(ptr: Pointer, free: (ptr: Pointer) => number, what: string) {
    this.#owned = { ptr, free };
    this.#what = what;
    registry.register(this, this.#owned, this);
  }

  /** The live pointer; throws {@link ClosedError} after `close()`. */
  get ptr(): Pointer {
    if (!this.#owned) throw new ClosedError(this.#what, this.#closedBy);
    return this.#owned.ptr;
  }

  get closed(): boolean {
    return this.#owned === undefined;
  }

  /** Closes on behalf of a `using` block ending, so later calls say so. */
  dispose(): void {
    if (this.#owned) this.#closedBy = "using";
    this.close();
  }

  close(): void {
    const owned = this.#owned;
    if (!owned) return;
    this.#owned = undefined;
    registry.unregister(this);
    owned.free(owned.ptr);
  }
}

interface PendingJob {
  settle: () => void;
}

const pending = new Map<number, PendingJob>();
const wakeBuffer = Buffer.alloc(4096);
const tokens = new BigUint64Array(256);
const tokenCount = new BigUint64Array(1);
let wakeFd: number | undefined;
let reading = false;

function fd(): number {
  if (wakeFd === undefined) {
    const cell = new Int32Array(1);
    check(lib().ruv_runtime_wake_fd(cell));
    wakeFd = cell[0]!;
  }
  return wakeFd;
}

function drain(): void {
  for (;;) {
    check(lib().ruv_runtime_poll(tokens, tokens.length, tokenCount));
    const n = Number(tokenCount[0]);
    for (let i = 0; i < n; i++) {
      const token = Number(tokens[i]);
      const job = pending.get(token);
      pending.delete(token);
      job?.settle();
    }
    if (n < tokens.length) return;
  }
}

function pump(): void {
  if (reading || pending.size === 0) return;
  reading = true;
  read(fd(), wakeBuffer, 0, wakeBuffer.length, null, () => {
    reading = false;
    drain();
    pump();
  });
}

/** Called with the work units a job has done and announced so far. */
export type ProgressCallback = (done: number, total: number) => void;

const PROGRESS_POLL_MS = 100;

/** Polls a job's progress into a callback until stopped; a callback that throws stops it, and the job then fails with that error. */
class ProgressWatch {
  readonly #timer: ReturnType<typeof setInterval>;
  #error: { value: unknown } | undefined;

  constructor(job: Pointer, onProgress: ProgressCallback) {
    const done = new BigUint64Array(1);
    const total = new BigUint64Array(1);
    this.#timer = setInterval(() => {
      if (lib().ruv_job_progress(job, done, total) !== 0 || total[0] === 0n) return;
      try {
        onProgress(Number(done[0]), Number(total[0]));
      } catch (e) {
        this.#error = { value: e };
        clearInterval(this.#timer);
      }
    }, PROGRESS_POLL_MS);
    this.#timer.unref();
  }

  /** Stops polling (before the job is freed) and throws what the callback threw, if it did. */
  stop(): void {
    clearInterval(this.#timer);
    if (this.#error) throw this.#error.value;
  }
}

/**
 * Starts a native job and resolves with `finish(job)` once it completes.
 * `start` writes the job handle through its argument. `retain` is kept
 * referenced until the job ends (inputs the native side reads in place).
 * `area` picks the error class of I/O failures; `onProgress` is polled while it runs.
 */
export function runJob<T>(
  start: (outJob: BigUint64Array) => number,
  finish: (job: Pointer) => T,
  retain?: unknown,
  area: ErrorArea = "index",
  onProgress?: ProgressCallback,
): Promise<T> {
  const cell = new BigUint64Array(1);
  check(start(cell), area);
  const job = outPointer(cell);
  const symbols = lib();
  const watch = onProgress && new ProgressWatch(job, onProgress);
  return new Promise<T>((resolve, reject) => {
    pending.set(job, {
      settle: () => {
        void retain;
        try {
          watch?.stop();
          const status = symbols.ruv_job_status(job);
          if (status !== 0) throw statusError(status, lastError(), area);
          resolve(finish(job));
        } catch (e) {
          reject(e);
        } finally {
          symbols.ruv_job_free(job);
        }
      },
    });
    pump();
  });
}
