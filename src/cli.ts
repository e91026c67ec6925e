#!/usr/bin/env bun
/** The `ruvector` command line; see `ruvector --help`. */
import { main } from "./cli/main.ts";

// A reader that stops early (`ruvector … | head`) is not a failure: end quietly instead of reporting EPIPE.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
  process.exit(0);
});

// exitCode rather than exit(): lets piped stdout drain before the process ends.
process.exitCode = await main(process.argv.slice(2));
