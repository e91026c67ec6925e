/** `ruvector version`. */
import { NativeLibraryError } from "../errors.ts";
import { cpuFeatures, nativeVersion, type CpuFeature } from "../ffi.ts";
import { version } from "../version.ts";
import { JSON_OPTION, type CommandSpec } from "./args.ts";
import { printFields, printJson } from "./output.ts";

/** What `version` reports; `nativeVersion` is null (and `nativeError` says why) when no usable library is found. */
interface VersionReport {
  version: string;
  nativeVersion: string | null;
  cpuFeatures: CpuFeature[];
  nativeError?: string;
}

function versionReport(): VersionReport {
  try {
    return { version, nativeVersion: nativeVersion(), cpuFeatures: cpuFeatures() };
  } catch (err) {
    if (!(err instanceof NativeLibraryError)) throw err;
    return { version, nativeVersion: null, cpuFeatures: [], nativeError: err.message };
  }
}

/** The `version` command. */
export const VERSION_COMMAND: CommandSpec = {
  name: "version",
  usage: "[options]",
  summary: "print the package and native library versions and CPU features",
  description:
    "Prints the package version, the loaded native library's version and the SIMD\n" +
    "features it detected on this CPU. Without a usable native library it still prints\n" +
    "the package version, and says why the library is missing.",
  positionals: [],
  options: { json: JSON_OPTION },
  async run(args) {
    const report = versionReport();
    if (args.flag("json")) return printJson(report);
    const native = report.nativeVersion ?? `missing: ${report.nativeError}`;
    printFields([["ruvector", report.version], ["native", native], ["cpu", report.cpuFeatures.join(" ") || "(none)"]]);
  },
};
