//! The text tokenizer: the model's own `tokenizer.json` through the
//! `tokenizers` crate, with its built-in fixed padding/truncation (128)
//! replaced by batch-longest right padding and truncation at the model's
//! maximum length (special tokens kept).

use std::path::Path;

use tokenizers::{PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::error::{Error, Result, Status};

/// A tokenized batch as the model's int64 inputs, each `[batch, seq]`.
pub struct Batch {
    pub ids: Vec<i64>,
    pub mask: Vec<i64>,
    pub type_ids: Vec<i64>,
    pub seq: usize,
}

/// A tokenizer configured like sentence-transformers.
pub struct TextTokenizer {
    inner: Tokenizer,
}

fn embed_err(message: String) -> Error {
    Error::new(Status::Embed, message)
}

/// Largest `tokenizer.json` read (the biggest multilingual ones are about 20 MB).
const MAX_TOKENIZER_BYTES: u64 = 64 << 20;
/// Longest truncation length accepted, far beyond any model's context.
const MAX_TOKENS: usize = 1 << 20;

impl TextTokenizer {
    /// Loads `tokenizer.json`; `max_len` counts the special tokens.
    pub fn from_file(path: &Path, max_len: usize) -> Result<Self> {
        if !(2..=MAX_TOKENS).contains(&max_len) {
            return Err(Error::invalid(format!("max length must be in 2..={MAX_TOKENS} (room for [CLS] and [SEP]), got {max_len}")));
        }
        let bytes = crate::fsio::read_capped(path, MAX_TOKENIZER_BYTES, "tokenizer").map_err(|e| embed_err(e.message))?;
        let mut inner = Tokenizer::from_bytes(&bytes).map_err(|e| embed_err(format!("cannot read tokenizer {}: {e}", path.display())))?;
        let pad_id = inner.token_to_id("[PAD]").unwrap_or(0);
        inner
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| embed_err(format!("tokenizer truncation: {e}")))?;
        inner.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id,
            pad_type_id: 0,
            pad_token: "[PAD]".into(),
        }));
        Ok(Self { inner })
    }

    /// Token ids of one text, special tokens included, unpadded.
    pub fn ids(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.inner.encode(text, true).map_err(|e| embed_err(format!("tokenizer: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Tokenizes a batch, padded on the right to its longest member.
    pub fn batch(&self, texts: &[&str]) -> Result<Batch> {
        let encodings = self.inner.encode_batch(texts.to_vec(), true).map_err(|e| embed_err(format!("tokenizer: {e}")))?;
        let seq = encodings.first().map_or(0, |e| e.len());
        let mut batch = Batch { ids: Vec::with_capacity(seq * texts.len()), mask: Vec::new(), type_ids: Vec::new(), seq };
        for enc in &encodings {
            batch.ids.extend(enc.get_ids().iter().map(|&x| x as i64));
            batch.mask.extend(enc.get_attention_mask().iter().map(|&x| x as i64));
            batch.type_ids.extend(enc.get_type_ids().iter().map(|&x| x as i64));
        }
        Ok(batch)
    }
}
