/** Local embeddings: {@link Embedder}, {@link Tokenizer}, the model registry and cache. */
export { Embedder, rowViews, type EmbedBatchOptions, type EmbedProgress, type ImageSize, type PretrainedOptions } from "./embedder.ts";
export { Tokenizer, type TokenizerOptions } from "./tokenizer.ts";
export { models, modelInfo, type ModelInfo, type ModelFileInfo } from "./registry.ts";
export {
  modelDir,
  ensureModelFiles,
  importModelFilesAsync,
  verifyModelFilesAsync,
  type CacheOptions,
  type DownloadProgress,
  type ModelFileStatus,
} from "./download.ts";
export { resolveOrtLibrary, ORT_INSTALL_HINT, type OrtResolveOptions } from "./ort.ts";
