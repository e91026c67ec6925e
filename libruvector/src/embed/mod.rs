//! Local embeddings over the ONNX Runtime C API: text (tokenizer + transformer
//! + pooling) and images (torchvision preprocessing + a CNN's pooled features).
//!
//! Model files are verified against their pinned SHA-256 on every open, before
//! ONNX Runtime sees them.

pub mod image;
pub mod pooling;
pub mod progress;
pub mod registry;
pub mod session;
pub mod tokenize;
pub mod verify;

use std::path::Path;

use ort::value::Tensor;

use crate::error::{Error, Result, Status};
use progress::Progress;
use registry::{Modality, ModelSpec};
use session::SharedSession;
use tokenize::{Batch, TextTokenizer};

/// Texts per forward pass: bounds memory for arbitrarily large batches.
pub const CHUNK: usize = 32;

/// A loaded model, shared by the FFI handle and its background jobs.
pub struct Embedder {
    spec: &'static ModelSpec,
    session: SharedSession,
    tokenizer: Option<TextTokenizer>,
}

fn embed_err(message: String) -> Error {
    Error::new(Status::Embed, message)
}

impl Embedder {
    /// Opens registry model `name` from `dir` (verifying every file) with ONNX
    /// Runtime loaded from `ort_lib`.
    pub fn open(name: &str, dir: &Path, ort_lib: &Path) -> Result<Self> {
        let spec = registry::find(name)?;
        if let Some(why) = spec.unavailable {
            return Err(embed_err(why.to_string()));
        }
        let paths = spec.files.iter().map(|f| verify::verified_path(dir, f)).collect::<Result<Vec<_>>>()?;
        let model = &paths[0];
        let tokenizer = match spec.modality {
            Modality::Text { max_len, .. } => Some(TextTokenizer::from_file(&paths[1], max_len)?),
            Modality::Image { .. } => None,
        };
        let env = session::environment(ort_lib)?;
        // The hash was just verified; key the session cache by it.
        let sha = verify::sha256_file(model).map_err(|e| embed_err(format!("cannot read {}: {e}", model.display())))?;
        let session = session::session(env, model, &sha)?;
        Ok(Self { spec, session, tokenizer })
    }

    pub fn spec(&self) -> &'static ModelSpec {
        self.spec
    }

    fn tokenizer(&self) -> Result<&TextTokenizer> {
        self.tokenizer.as_ref().ok_or_else(|| embed_err(format!("{} is an image model: use embedImage, not text", self.spec.name)))
    }

    /// Token ids of `text` (special tokens included, truncated to the model's maximum).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer()?.ids(text)
    }

    /// Embeds `texts` into `out` (`texts.len() × dim`), in chunks of [`CHUNK`].
    pub fn embed_texts(&self, texts: &[&str], out: &mut [f32]) -> Result<()> {
        self.embed_texts_tracked(texts, out, &Progress::default())
    }

    /// [`embed_texts`](Self::embed_texts), counting finished texts into `progress`
    /// and stopping with an `Embed` error before the next chunk once it is cancelled.
    /// With more than one chunk, a second thread tokenizes the next chunk while
    /// the current one runs through the model.
    pub fn embed_texts_tracked(&self, texts: &[&str], out: &mut [f32], progress: &Progress) -> Result<()> {
        let dim = self.spec.dim;
        if out.len() != texts.len() * dim {
            return Err(Error::dim_mismatch(texts.len() * dim, out.len()));
        }
        let Modality::Text { pooling, .. } = self.spec.modality else {
            return Err(embed_err(format!("{} is an image model: use embedImage, not text", self.spec.name)));
        };
        let tokenizer = self.tokenizer()?;
        // Texts of similar length share a chunk (as sentence-transformers does), so
        // little compute goes to padding; rows are written back in input order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(texts[i].len()));
        let chunk_texts = |idx: &[usize]| -> Vec<&str> { idx.iter().map(|&i| texts[i]).collect() };
        let mut rows = vec![0f32; CHUNK * dim];
        let mut run = |idx: &[usize], batch: Batch| -> Result<()> {
            progress.check(texts.len())?;
            let rows = &mut rows[..idx.len() * dim];
            self.run_text_batch(pooling, batch, idx.len(), rows)?;
            for (row, &i) in rows.chunks_exact(dim).zip(idx) {
                out[i * dim..(i + 1) * dim].copy_from_slice(row);
            }
            progress.add(idx.len());
            Ok(())
        };
        if order.len() <= CHUNK {
            return run(&order, tokenizer.batch(&chunk_texts(&order))?);
        }
        std::thread::scope(|scope| {
            let (next, ready) = std::sync::mpsc::sync_channel::<Result<Batch>>(1);
            let order = &order;
            scope.spawn(move || {
                for idx in order.chunks(CHUNK) {
                    // A closed channel means inference failed: stop tokenizing.
                    if next.send(tokenizer.batch(&chunk_texts(idx))).is_err() {
                        break;
                    }
                }
            });
            for idx in order.chunks(CHUNK) {
                let batch = ready.recv().map_err(|_| embed_err("the tokenizer thread stopped early".into()))??;
                run(idx, batch)?;
            }
            Ok(())
        })
    }

    fn run_text_batch(&self, pooling: registry::Pooling, batch: Batch, texts: usize, rows: &mut [f32]) -> Result<()> {
        let dim = self.spec.dim;
        let shape = [texts as i64, batch.seq as i64];
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let wants_types = session.inputs().iter().any(|i| i.name() == "token_type_ids");
        let tensor = |v: Vec<i64>| Tensor::from_array((shape, v)).map_err(|e| embed_err(format!("input tensor: {e}")));
        let mut inputs = ort::inputs![
            "input_ids" => tensor(batch.ids)?,
            "attention_mask" => tensor(batch.mask.clone())?,
        ];
        if wants_types {
            inputs.push(("token_type_ids".into(), tensor(batch.type_ids)?.into()));
        }
        let outputs = session.run(inputs).map_err(|e| embed_err(format!("{}: inference failed: {e}", self.spec.name)))?;
        let (out_shape, hidden) = outputs[self.spec.output]
            .try_extract_tensor::<f32>()
            .map_err(|e| embed_err(format!("{}: output {}: {e}", self.spec.name, self.spec.output)))?;
        let expect = [texts as i64, batch.seq as i64, dim as i64];
        if out_shape[..] != expect[..] {
            return Err(embed_err(format!("{}: output shape {:?}, expected {expect:?}", self.spec.name, &out_shape[..])));
        }
        pooling::pool(pooling, hidden, &batch.mask, batch.seq, dim, rows);
        Ok(())
    }

    /// Embeds one RGB/RGBA image (`width × height`) into `out` (`dim`), L2-normalised.
    pub fn embed_image(&self, pixels: &[u8], width: usize, height: usize, out: &mut [f32]) -> Result<()> {
        let input = self.preprocess_image(pixels, width, height)?;
        self.embed_preprocessed(&input, out)
    }

    /// The `[1, 3, side, side]` NCHW input this image model takes for an RGB/RGBA image.
    pub fn preprocess_image(&self, pixels: &[u8], width: usize, height: usize) -> Result<Vec<f32>> {
        let Modality::Image { side, resize } = self.spec.modality else {
            return Err(embed_err(format!("{} is a text model: use embed, not embedImage", self.spec.name)));
        };
        image::preprocess(pixels, width, height, resize, side)
    }

    /// Embeds one already preprocessed `[1, 3, side, side]` NCHW tensor into `out`, L2-normalised.
    pub fn embed_preprocessed(&self, input: &[f32], out: &mut [f32]) -> Result<()> {
        let Modality::Image { side, .. } = self.spec.modality else {
            return Err(embed_err(format!("{} is a text model: it takes no image tensor", self.spec.name)));
        };
        if input.len() != 3 * side * side {
            return Err(embed_err(format!("preprocessed image must be [1, 3, {side}, {side}] = {} floats, got {}", 3 * side * side, input.len())));
        }
        if out.len() != self.spec.dim {
            return Err(Error::dim_mismatch(self.spec.dim, out.len()));
        }
        let tensor = Tensor::from_array(([1i64, 3, side as i64, side as i64], input.to_vec())).map_err(|e| embed_err(format!("input tensor: {e}")))?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let input_name = session.inputs()[0].name().to_string();
        let outputs = session.run(ort::inputs![input_name => tensor]).map_err(|e| embed_err(format!("{}: inference failed: {e}", self.spec.name)))?;
        let (_, features) = outputs[self.spec.output]
            .try_extract_tensor::<f32>()
            .map_err(|e| embed_err(format!("{}: output {}: {e}", self.spec.name, self.spec.output)))?;
        if features.len() != self.spec.dim {
            return Err(embed_err(format!("{}: output has {} values, expected {}", self.spec.name, features.len(), self.spec.dim)));
        }
        out.copy_from_slice(features);
        pooling::l2_normalize(out);
        Ok(())
    }
}
