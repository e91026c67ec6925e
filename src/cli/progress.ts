/**
 * Progress on stderr for long work, only when stderr is a terminal: pipes,
 * logs and tests get clean output with nothing to strip.
 */

/** A running progress line; `finish` erases it. */
export interface Progress {
  /** Reports `done` of the total given to {@link startProgress}, or of `total` when the work learns it later. */
  update(done: number, total?: number): void;
  finish(): void;
}

const SILENT: Progress = { update() {}, finish() {} };
const SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/**
 * Starts a progress line labelled `label`: a bar when `total` is known, a
 * spinner with elapsed time otherwise. Silent unless stderr is a TTY.
 */
function startProgress(label: string, knownTotal?: number): Progress {
  if (!process.stderr.isTTY) return SILENT;
  const started = performance.now();
  let total = knownTotal;
  let done = 0;
  let frame = 0;
  let drawnAt = 0;
  const draw = () => {
    drawnAt = performance.now();
    const elapsed = (drawnAt - started) / 1000;
    const state = total ? `${bar(done, total)} ${elapsed.toFixed(1)}s${eta(elapsed, done, total)}` : `${SPINNER[frame++ % SPINNER.length]} ${elapsed.toFixed(1)}s`;
    process.stderr.write(`\r\x1b[K${label} ${state}`);
  };
  // The timer animates while native work runs off the JS thread; unref'd so it never holds the process open.
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  draw();
  return {
    update(n, newTotal) {
      done = n;
      if (newTotal !== undefined) total = newTotal;
      // Synchronous loops starve the timer, so they redraw here (throttled).
      if (performance.now() - drawnAt >= REDRAW_MS) draw();
    },
    finish() {
      clearInterval(timer);
      process.stderr.write("\r\x1b[K");
    },
  };
}

function bar(done: number, total: number): string {
  const filled = Math.round((BAR_WIDTH * Math.min(done, total)) / total);
  const percent = Math.floor((100 * Math.min(done, total)) / total);
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${percent}% ${done}/${total}`;
}

/** Time left at the rate so far, once there is a rate to go by. */
export function eta(elapsedSeconds: number, done: number, total: number): string {
  if (done <= 0 || done >= total) return "";
  return ` ETA ${formatSeconds((elapsedSeconds * (total - done)) / done)}`;
}

function formatSeconds(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** Runs `work` under a progress line that is erased however the work ends; `total` may also come later, through `update`. */
export async function withProgress<T>(label: string, work: (progress: Progress) => Promise<T> | T, total?: number): Promise<T> {
  const progress = startProgress(label, total);
  try {
    return await work(progress);
  } finally {
    progress.finish();
  }
}
