//! IvfRabitqIndex on the real data sets against their stored exact ground
//! truth, next to the exact flat scan (canonical kernel, and the sequential
//! sum it replaced). Single thread, one query per call, k = 10.
//!
//! ruvector-ivf-bench glove|fashion <datasets dir> [queries=1000] [sweep=quick|full]
//! Prints markdown tables: build s, index MB, and per setting recall@10 / QPS.
//!
//! ruvector-ivf-bench stages glove|fashion|synth384 <datasets dir> [threads=2] [nlist=default]
//! Build cost per stage (wall and process CPU seconds) with the default
//! options and with targetRecall 0.95, and recall@10 against nprobe.

use std::time::Instant;

use ruvector::index::ivf::{IvfOptions, IvfParams, IvfRabitqIndex, SearchOptions, StoreKind};
use ruvector::index::{Kind, Metric, Params, SearchParams, VectorIndex};

struct Data {
    dim: usize,
    base: Vec<f32>,
    queries: Vec<f32>,
    truth: Vec<Vec<u32>>,
    metric: Metric,
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// fvecs/ivecs rows: i32 dim then dim 4-byte values.
fn vecs(bytes: &[u8]) -> (usize, Vec<[u8; 4]>) {
    let dim = i32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    let rows = bytes.chunks_exact(4 + 4 * dim).flat_map(|r| r[4..].chunks_exact(4).map(|c| c.try_into().unwrap()));
    (dim, rows.collect())
}

fn gunzip_idx(path: &str) -> Vec<f32> {
    let out = std::process::Command::new("gzip").args(["-dc", path]).output().expect("gzip");
    out.stdout[16..].iter().map(|&b| b as f32).collect()
}

fn load(name: &str, dir: &str, nq: usize) -> Data {
    let truth_of = |path: &str| {
        let (k, v) = vecs(&read(path));
        v.chunks_exact(k).take(nq).map(|r| r[..10].iter().map(|b| i32::from_le_bytes(*b) as u32).collect()).collect()
    };
    let floats = |v: Vec<[u8; 4]>| v.into_iter().map(f32::from_le_bytes).collect::<Vec<f32>>();
    match name {
        "glove" => {
            let d = format!("{dir}/glove-100-angular-100k");
            let (dim, base) = vecs(&read(&format!("{d}/base.fvecs")));
            let (_, q) = vecs(&read(&format!("{d}/query.fvecs")));
            let queries = floats(q)[..nq * dim].to_vec();
            Data { dim, base: floats(base), queries, truth: truth_of(&format!("{d}/groundtruth.ivecs")), metric: Metric::Cosine }
        }
        "fashion" => {
            let d = format!("{dir}/fashion-mnist-784-euclidean");
            let base = gunzip_idx(&format!("{d}/train-images-idx3-ubyte.gz"));
            let queries = gunzip_idx(&format!("{d}/t10k-images-idx3-ubyte.gz"))[..nq * 784].to_vec();
            Data { dim: 784, base, queries, truth: truth_of(&format!("{d}/groundtruth.ivecs")), metric: Metric::L2 }
        }
        "synth384" => synthetic(100_000, 384, nq.min(200)),
        other => panic!("unknown data set {other} (glove | fashion | synth384)"),
    }
}

/// Upstream's synthetic recipe (100 centroids in U(-2,2)^D, σ 0.6), queries
/// from the same prior, exact top-10 from the flat index.
fn synthetic(n: usize, dim: usize, nq: usize) -> Data {
    let mut state = 91u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let centres: Vec<f32> = (0..100 * dim).map(|_| (next() * 4.0 - 2.0) as f32).collect();
    let mut point = |_| {
        let c = (next() * 100.0) as usize;
        (0..dim)
            .map(|j| {
                let g = (-2.0 * (1.0 - next()).ln()).sqrt() * (std::f64::consts::TAU * next()).cos();
                centres[c * dim + j] + 0.6 * g as f32
            })
            .collect::<Vec<f32>>()
    };
    let base: Vec<f32> = (0..n).flat_map(&mut point).collect();
    let queries: Vec<f32> = (0..nq).flat_map(&mut point).collect();
    let flat = VectorIndex::build(Params::new(Kind::Flat, dim, 1, 1, Metric::L2, false), &base, None).expect("flat build");
    let truth = queries.chunks_exact(dim).map(|q| flat.search_owned(q, 10, &SearchParams::default()).unwrap().0.iter().map(|&i| i as u32).collect()).collect();
    Data { dim, base, queries, truth, metric: Metric::L2 }
}

fn recall(found: &[Vec<u32>], truth: &[Vec<u32>]) -> f64 {
    let hit: usize = found.iter().zip(truth).map(|(f, t)| f.iter().filter(|x| t.contains(x)).count()).sum();
    hit as f64 / (10 * truth.len()) as f64
}

/// Runs `one` over every query on this thread: (recall@10, QPS).
fn timed(d: &Data, mut one: impl FnMut(&[f32]) -> Vec<u32>) -> (f64, f64) {
    for q in d.queries.chunks_exact(d.dim).take(20) {
        one(q);
    }
    let t = Instant::now();
    let found: Vec<Vec<u32>> = d.queries.chunks_exact(d.dim).map(&mut one).collect();
    (recall(&found, &d.truth), d.truth.len() as f64 / t.elapsed().as_secs_f64())
}

/// The scan `FlatF32Index` used before the canonical kernel: one sequential sum.
fn sequential_flat(d: &Data, rows: &[f32], q: &[f32]) -> Vec<u32> {
    let mut best: Vec<(f32, u32)> = rows
        .chunks_exact(d.dim)
        .enumerate()
        .map(|(i, r)| (r.iter().zip(q).map(|(&x, &y)| (x - y) * (x - y)).sum(), i as u32))
        .collect();
    best.select_nth_unstable_by(10, |a, b| a.0.total_cmp(&b.0));
    best[..10].iter().map(|b| b.1).collect()
}

fn flat(d: &Data, nq_flat: usize) {
    let params = Params::new(Kind::Flat, d.dim, 1, 1, d.metric, false);
    let idx = VectorIndex::build(params, &d.base, None).expect("flat build");
    let sub = Data { dim: d.dim, base: Vec::new(), queries: d.queries[..nq_flat * d.dim].to_vec(), truth: d.truth[..nq_flat].to_vec(), metric: d.metric };
    let (r, qps) = timed(&sub, |q| idx.search_owned(q, 10, &SearchParams::default()).unwrap().0.iter().map(|&i| i as u32).collect());
    let unit: Vec<f32> = match d.metric {
        Metric::Cosine => idx.vectors().unwrap(),
        Metric::L2 => d.base.clone(),
    };
    let (r0, qps0) = timed(&sub, |q| {
        let n: f32 = q.iter().map(|x| x * x).sum::<f32>().sqrt();
        let q: Vec<f32> = if d.metric == Metric::Cosine { q.iter().map(|x| x / n).collect() } else { q.to_vec() };
        sequential_flat(d, &unit, &q)
    });
    println!("| exact flat, canonical 16-lane kernel ({}) | {r:.3} | {qps:.0} |", ruvector::kernels::active().name);
    println!("| exact flat, sequential sum (before) | {r0:.3} | {qps0:.0} |");
}

fn ivf(d: &Data, p: &IvfParams, label: &str, settings: &[(usize, usize)]) {
    let t = Instant::now();
    let idx = IvfRabitqIndex::build(p, &d.base).expect("ivf build");
    let build = t.elapsed().as_secs_f64();
    let cal = idx.calibration().map(|c| format!(", calibrated nprobe {} (own-row recall {:.3})", c.nprobe, c.measured_recall)).unwrap_or_default();
    println!("\n{label}: nlist {}, exBits {}, store {:?}: build {build:.2} s, {:.1} MB{cal}", idx.nlist(), p.options.ex_bits, p.options.store, idx.memory_bytes() as f64 / 1e6);
    println!("| nprobe | rerank | recall@10 | QPS |\n|---:|---:|---:|---:|");
    let mut list: Vec<(usize, usize)> = settings.to_vec();
    if idx.calibration().is_some() {
        list = vec![(idx.params().options.nprobe, idx.params().options.rerank)];
    }
    for (nprobe, rerank) in list {
        let opts = SearchOptions { nprobe: Some(nprobe), rerank: Some(rerank) };
        let (r, qps) = timed(d, |q| idx.search(q, 10, opts).unwrap().iter().map(|h| h.0).collect());
        println!("| {nprobe} | {rerank} | {r:.3} | {qps:.0} |");
    }
}

const STAGES: [&str; 6] = ["prepare", "rotate", "train", "assign", "encode", "calibrate"];

/// One profiled build: its stage table row, then recall@10 at `probes`.
fn stages(d: &Data, p: &IvfParams, label: &str, probes: &[usize]) {
    let (idx, times) = IvfRabitqIndex::build_profiled(p, &d.base).expect("ivf build");
    let cell = |stage: &str| match times.iter().find(|t| t.stage == stage) {
        Some(t) => format!("{:.3} / {:.3}", t.cpu_s, t.wall_s),
        None => "–".to_string(),
    };
    let total = times.iter().fold((0.0, 0.0), |a, t| (a.0 + t.cpu_s, a.1 + t.wall_s));
    let cols: Vec<String> = STAGES.iter().map(|s| cell(s)).collect();
    let cal = idx.calibration().map(|c| format!(", calibrated nprobe {}", c.nprobe)).unwrap_or_default();
    println!("| {label} (nlist {}{cal}) | {} | **{:.3} / {:.3}** |", idx.nlist(), cols.join(" | "), total.0, total.1);
    for &nprobe in probes {
        let opts = SearchOptions { nprobe: Some(nprobe), rerank: Some(0) };
        let found: Vec<Vec<u32>> = d.queries.chunks_exact(d.dim).map(|q| idx.search(q, 10, opts).unwrap().iter().map(|h| h.0).collect()).collect();
        eprintln!("{label}: nprobe {nprobe} recall@10 {:.4}", recall(&found, &d.truth));
    }
}

fn stages_main(args: &[String]) {
    let threads = args.get(4).map(|s| s.parse().expect("threads")).unwrap_or(2);
    let nlist = args.get(5).map(|s| s.parse().expect("nlist")).unwrap_or(0);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().ok();
    let d = load(&args[2], &args[3], 1000);
    println!("{}: {} × {}, {threads} threads, SIMD path {}; CPU / wall seconds per stage\n", args[2], d.base.len() / d.dim, d.dim, ruvector::kernels::active().name);
    println!("| build | prepare | rotate | train | assign | encode | calibrate | total |\n|---|---|---|---|---|---|---|---|");
    let mut base = IvfParams::new(d.dim, d.metric);
    base.options.nlist = nlist;
    stages(&d, &base, "codes only", &[4, 8, 16, 32, 64, 128]);
    stages(&d, &IvfParams { options: IvfOptions { target_recall: Some(0.95), ..base.options }, ..base }, "targetRecall 0.95", &[]);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "stages") && args.len() >= 4 {
        return stages_main(&args);
    }
    if args.len() < 3 {
        eprintln!("usage: ruvector-ivf-bench glove|fashion <datasets dir> [queries] [quick|full]");
        std::process::exit(2);
    }
    let nq = args.get(3).map(|s| s.parse().expect("queries")).unwrap_or(1000);
    let full = args.get(4).is_some_and(|s| s == "full");
    let d = load(&args[1], &args[2], nq);
    rayon::ThreadPoolBuilder::new().num_threads(2).build_global().ok();
    println!("{}: {} × {}, {} queries, SIMD path {}\n", args[1], d.base.len() / d.dim, d.dim, nq, ruvector::kernels::active().name);
    println!("| method | recall@10 | QPS |\n|---|---:|---:|");
    flat(&d, nq.min(200));
    let base = IvfParams::new(d.dim, d.metric);
    let probes: Vec<usize> = if full { vec![16, 32, 64, 96, 128, 192, 256] } else { vec![32, 64, 128] };
    let codes: Vec<(usize, usize)> = probes.iter().map(|&p| (p, 0)).collect();
    for bits in if full { vec![4, 5, 7, 8] } else { vec![7] } {
        ivf(&d, &IvfParams { options: IvfOptions { ex_bits: bits, ..base.options }, ..base }, "codes only", &codes);
    }
    let stored = IvfParams { options: IvfOptions { ex_bits: 4, store: StoreKind::F16, ..base.options }, ..base };
    let reranked: Vec<(usize, usize)> = probes.iter().flat_map(|&p| [(p, 20), (p, 50)]).collect();
    ivf(&d, &stored, "f16 store", &reranked);
    ivf(&d, &IvfParams { options: IvfOptions { target_recall: Some(0.95), ..base.options }, ..base }, "targetRecall 0.95", &[]);
    ivf(&d, &IvfParams { options: IvfOptions { target_recall: Some(0.99), rerank: 30, ..stored.options }, ..stored }, "targetRecall 0.99 + f16 store", &[]);
}
