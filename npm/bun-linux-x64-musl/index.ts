// A static `type: "file"` import so `bun build --compile` embeds the library.
import path from "./libruvector.so" with { type: "file" };
export default path;
