// A static `type: "file"` import so `bun build --compile` embeds the library.
import path from "./ruvector.dll" with { type: "file" };
export default path;
