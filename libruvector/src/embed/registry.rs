//! The model registry: every model we know, its files and their pinned SHA-256.
//! A file is accepted only when its hash is one of the pinned values.

/// How token embeddings become one sentence vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    /// Attention-mask-weighted mean, then L2 normalisation (sentence-transformers).
    Mean,
    /// The `[CLS]` token's hidden state, then L2 normalisation (bge).
    Cls,
}

/// What a model embeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modality {
    Text { pooling: Pooling, max_len: usize },
    /// `side`: the square input the model was trained on; `resize`: the shorter
    /// side before the centre crop.
    Image { side: usize, resize: usize },
}

/// One file of a model.
#[derive(Debug)]
pub struct ModelFile {
    /// File name inside the model's cache folder.
    pub name: &'static str,
    /// Path relative to the download base URL.
    pub url_path: &'static str,
    /// Accepted SHA-256 values (lower-case hex).
    pub sha256: &'static [&'static str],
    /// What the file is and where each pinned hash comes from.
    pub source: &'static str,
}

/// One model of the registry.
#[derive(Debug)]
pub struct ModelSpec {
    pub name: &'static str,
    pub modality: Modality,
    pub dim: usize,
    /// ONNX output holding the hidden states or the pooled features.
    pub output: &'static str,
    pub files: &'static [ModelFile],
    /// Default download base (`{revision}` is substituted), if there is a public one.
    pub base_url: Option<&'static str>,
    /// Set when the model cannot be used (no real weights with a pinned hash).
    pub unavailable: Option<&'static str>,
}

const MINILM_TOKENIZER: ModelFile = ModelFile {
    name: "tokenizer.json",
    url_path: "tokenizer.json",
    sha256: &["be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"],
    source: "sentence-transformers/all-MiniLM-L6-v2 tokenizer.json (upstream commit 2cfdf1ac)",
};

/// `scripts/convert-minilm.py --graph padfree` over the upstream model.safetensors (53aa5117…): the default fp32 graph.
pub const MINILM_PADFREE_SHA256: &str = "22c054cff3a9e88f22bfdaae493cedb4ca4aecdc634306ecf9601a3dab113cf4";
/// `scripts/convert-minilm.py --graph padded`: the upstream layout, fp32.
pub const MINILM_PADDED_SHA256: &str = "bc9aa705e894bf0b00d5de3440856be6fd558b5f22a0858f421b9669051b9b2d";
/// `scripts/convert-minilm.py --graph padfree-int8`: dynamic int8 MatMuls, per-channel int8 weights.
pub const MINILM_INT8_SHA256: &str = "decd886343db86cb77a97b5494ac53737e808dbdf82de2c51c4a63c43c7da9b2";

/// What both all-MiniLM-L6-v2 entries share.
const MINILM: ModelSpec = ModelSpec {
    name: "all-MiniLM-L6-v2",
    modality: Modality::Text { pooling: Pooling::Mean, max_len: 256 },
    dim: 384,
    output: "last_hidden_state",
    files: &[],
    base_url: None,
    unavailable: None,
};

pub static MODELS: &[ModelSpec] = &[
    ModelSpec {
        files: &[
            ModelFile {
                name: "model.onnx",
                url_path: "onnx/model.onnx",
                sha256: &[
                    MINILM_PADFREE_SHA256,
                    // upstream onnx/model.onnx (fp32), from its Git LFS pointer
                    "6fd5d72fe4589f189f8ebc006442dbb529bb7ce38f8082112682524616046452",
                    MINILM_PADDED_SHA256,
                ],
                source: "all-MiniLM-L6-v2 fp32 ONNX: scripts/convert-minilm.py over the pinned upstream model.safetensors (padding-free graph, or the upstream layout), or upstream onnx/model.onnx; same I/O and vectors",
            },
            MINILM_TOKENIZER,
        ],
        base_url: Some("https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/{revision}/"),
        ..MINILM
    },
    ModelSpec {
        name: "all-MiniLM-L6-v2-int8",
        files: &[
            ModelFile {
                name: "model.onnx",
                url_path: "model.onnx",
                sha256: &[MINILM_INT8_SHA256],
                source: "all-MiniLM-L6-v2, padding-free, dynamic int8 MatMuls (per-channel int8 weights): scripts/convert-minilm.py --graph padfree-int8 over the pinned upstream model.safetensors",
            },
            MINILM_TOKENIZER,
        ],
        ..MINILM
    },
    ModelSpec {
        name: "bge-small-en-v1.5",
        modality: Modality::Text { pooling: Pooling::Cls, max_len: 512 },
        dim: 384,
        output: "last_hidden_state",
        files: &[],
        base_url: None,
        unavailable: Some("bge-small-en-v1.5 is declared but unavailable: no SHA-256 of its upstream files has been pinned, so no copy can be verified"),
    },
    ModelSpec {
        name: "mobilenetv2",
        modality: Modality::Image { side: 224, resize: 256 },
        dim: 1280,
        output: "embedding",
        files: &[ModelFile {
            name: "mobilenet_v2_int8_embedding.onnx",
            url_path: "mobilenet_v2_int8_embedding.onnx",
            sha256: &["7a8a9de7ac2afea4056fae28fbd4286a769e85493fd94a04d5707385707cabb0"],
            source: "torchvision MobileNetV2 IMAGENET1K_V2, dynamic int8 (Edge-onnx-benchmark), plus an `embedding` output (pooled 1280-d features)",
        }],
        base_url: None,
        unavailable: None,
    },
    ModelSpec {
        name: "mobilenetv3-small",
        modality: Modality::Image { side: 224, resize: 256 },
        dim: 576,
        output: "embedding",
        files: &[],
        base_url: None,
        unavailable: Some("mobilenetv3-small is declared but unavailable: no real pretrained weights with a pinned SHA-256 could be obtained (random weights are never used); use \"mobilenetv2\""),
    },
];

/// The registry entry for `name`, or an error listing the known names.
pub fn find(name: &str) -> crate::error::Result<&'static ModelSpec> {
    MODELS.iter().find(|m| m.name == name).ok_or_else(|| {
        let known: Vec<_> = MODELS.iter().map(|m| m.name).collect();
        crate::error::Error::new(crate::error::Status::Embed, format!("unknown model \"{name}\"; known models: {}", known.join(", ")))
    })
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The registry as JSON, for the host's downloader.
pub fn to_json() -> String {
    let models: Vec<String> = MODELS
        .iter()
        .map(|m| {
            let (kind, pooling, max_len) = match m.modality {
                Modality::Text { pooling, max_len } => ("text", Some(pooling), max_len),
                Modality::Image { side, .. } => ("image", None, side),
            };
            let files: Vec<String> = m
                .files
                .iter()
                .map(|f| {
                    let hashes: Vec<String> = f.sha256.iter().map(|h| json_str(h)).collect();
                    format!(
                        "{{\"name\":{},\"urlPath\":{},\"sha256\":[{}],\"source\":{}}}",
                        json_str(f.name),
                        json_str(f.url_path),
                        hashes.join(","),
                        json_str(f.source)
                    )
                })
                .collect();
            format!(
                "{{\"name\":{},\"kind\":\"{kind}\",\"dim\":{},\"pooling\":{},\"maxLength\":{max_len},\"files\":[{}],\"baseUrl\":{},\"unavailable\":{}}}",
                json_str(m.name),
                m.dim,
                pooling.map_or("null".into(), |p| json_str(&format!("{p:?}").to_lowercase())),
                files.join(","),
                m.base_url.map_or("null".into(), json_str),
                m.unavailable.map_or("null".into(), json_str),
            )
        })
        .collect();
    format!("[{}]", models.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minilm_graphs_are_pinned_and_distinct() {
        let pins = [MINILM_PADFREE_SHA256, MINILM_PADDED_SHA256, MINILM_INT8_SHA256];
        for (i, p) in pins.iter().enumerate() {
            assert!(p.len() == 64 && p.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{p}");
            assert!(!pins[..i].contains(p), "{p} pinned twice");
        }
        let fp32 = find("all-MiniLM-L6-v2").unwrap();
        assert_eq!(fp32.files[0].sha256[0], MINILM_PADFREE_SHA256, "the padding-free graph is the first (default) pin");
        let int8 = find("all-MiniLM-L6-v2-int8").unwrap();
        assert_eq!(int8.files[0].sha256, &[MINILM_INT8_SHA256]);
        assert_eq!(int8.files[1].sha256, fp32.files[1].sha256, "both use the upstream tokenizer");
        assert_eq!((int8.modality, int8.dim), (fp32.modality, fp32.dim));
    }
}
