/**
 * An independent all-MiniLM-L6-v2 pipeline for cross-checks: transformers.js's
 * tokenizer over the upstream tokenizer files and onnxruntime-node running the
 * same model file, with its own mean pooling and normalisation.
 */
import { AutoTokenizer, env } from "@huggingface/transformers";
import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { SHARED } from "../support/datasets.ts";

export interface Independent {
  embed(texts: string[]): Promise<Float32Array[]>;
}

export async function independentMiniLM(modelFile: string): Promise<Independent> {
  env.allowRemoteModels = false;
  env.localModelPath = join(SHARED, "models");
  const tokenizer = await AutoTokenizer.from_pretrained("all-MiniLM-L6-v2");
  const session = await ort.InferenceSession.create(modelFile);
  return {
    async embed(texts) {
      const enc = tokenizer(texts, { padding: true, truncation: true, max_length: 256 });
      const [batch, seq] = enc.input_ids.dims as [number, number];
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of ["input_ids", "attention_mask", "token_type_ids"] as const) {
        feeds[name] = new ort.Tensor("int64", enc[name]!.data as BigInt64Array, [batch, seq]);
      }
      const hidden = (await session.run(feeds)).last_hidden_state!.data as Float32Array;
      const mask = enc.attention_mask.data as BigInt64Array;
      const dim = hidden.length / (batch * seq);
      return Array.from({ length: batch }, (_, b) => {
        const v = new Float32Array(dim);
        let n = 0;
        for (let t = 0; t < seq; t++) {
          if (mask[b * seq + t] === 0n) continue;
          n++;
          for (let d = 0; d < dim; d++) v[d]! += hidden[(b * seq + t) * dim + d]!;
        }
        const norm = Math.hypot(...v.map((x) => x / n));
        return v.map((x) => x / n / norm);
      });
    },
  };
}
