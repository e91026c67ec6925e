/** `import path from "…/libonnxruntime.so.1" with { type: "file" }` gives the file's path (embedded by `bun build --compile`). */
declare module "*.so.1" {
  const path: string;
  export default path;
}
