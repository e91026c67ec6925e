//! The same index search as the Bun benchmark, without FFI: the baseline of
//! the FFI-tax ratio in `bench/indexes.ts`.
//!
//! ruvector-bench <base.fvecs> <queries.fvecs> <kind 0-3> <rerank> <metric 0|1> <k>
//! Builds the index, prints `ready`, then runs one round over all queries for
//! each line read from stdin and prints `{"ns_per_query":…,"checksum":…}`, so
//! the caller can interleave its own rounds with ours.

use std::io::BufRead;
use std::time::Instant;

use ruvector::index::{Kind, Metric, Params, SearchParams, VectorIndex};

fn read_fvecs(path: &str) -> (Vec<f32>, usize) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let dim = i32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    let stride = 4 + 4 * dim;
    let mut out = Vec::with_capacity(bytes.len() / stride * dim);
    for row in bytes.chunks_exact(stride) {
        out.extend(row[4..].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())));
    }
    (out, dim)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 7 {
        eprintln!("usage: ruvector-bench <base.fvecs> <queries.fvecs> <kind> <rerank> <metric> <k>");
        std::process::exit(2);
    }
    let num = |i: usize| args[i].parse::<u64>().unwrap_or_else(|_| panic!("argument {i} is not a number"));
    let (base, dim) = read_fvecs(&args[1]);
    let (queries, _) = read_fvecs(&args[2]);
    let kind = Kind::from_u32(num(3) as u32).expect("kind");
    let params = Params::new(kind, dim, 42, num(4) as usize, Metric::from_u32(num(5) as u32).expect("metric"), true);
    let k = num(6) as usize;
    let index = VectorIndex::build(params, &base, None).expect("build");
    println!("ready");
    let (mut ids, mut scores) = (vec![0u64; k], vec![0f32; k]);
    for _ in std::io::stdin().lock().lines() {
        let mut checksum = 0u64;
        let t = Instant::now();
        for q in queries.chunks_exact(dim) {
            let n = index.search_into(q, k, &SearchParams::default(), &mut ids, &mut scores).expect("search");
            checksum = checksum.wrapping_add(ids[..n].iter().sum::<u64>());
        }
        let ns = t.elapsed().as_nanos() as f64 / (queries.len() / dim) as f64;
        println!("{{\"ns_per_query\":{ns:.1},\"checksum\":{checksum}}}");
    }
}
