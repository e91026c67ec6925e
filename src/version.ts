import pkg from "../package.json" with { type: "json" };

/** Version of this package; the native library must report the same. */
export const version: string = pkg.version;
