#!/usr/bin/env bun
/** The `ruvector` command line; see `ruvector --help`. */
import { main } from "./cli/main.ts";

// exitCode rather than exit(): lets piped stdout drain before the process ends.
process.exitCode = await main(process.argv.slice(2));
