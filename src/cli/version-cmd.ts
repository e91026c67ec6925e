/** `ruvector version`. */
import { cpuFeatures, nativeVersion } from "../ffi.ts";
import { version } from "../version.ts";
import { JSON_OPTION, type CommandSpec } from "./args.ts";
import { printFields, printJson } from "./output.ts";

/** The `version` command. */
export const VERSION_COMMAND: CommandSpec = {
  name: "version",
  usage: "[options]",
  summary: "print the package and native library versions and CPU features",
  description: "Prints the package version, the loaded native library's version and the SIMD\nfeatures it detected on this CPU.",
  positionals: [],
  options: { json: JSON_OPTION },
  async run(args) {
    const report = { version, nativeVersion: nativeVersion(), cpuFeatures: cpuFeatures() };
    if (args.flag("json")) printJson(report);
    else printFields([["ruvector", report.version], ["native", report.nativeVersion], ["cpu", report.cpuFeatures.join(" ") || "(none)"]]);
  },
};
