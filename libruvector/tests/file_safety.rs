//! Loaders against hostile files: special files, size caps, cut trailers,
//! costly headers, and the temporaries a killed writer leaves.

mod common;
use common::data;
use ruvector::index::{persist, Kind, Metric, Params, VectorIndex};
use std::path::PathBuf;

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ruv-safety-{}-{name}", std::process::id()))
}

fn saved(kind: Kind, name: &str) -> (PathBuf, Vec<u8>) {
    let p = Params::new(kind, 16, 7, 4, Metric::L2, false);
    let idx = VectorIndex::build(p, &data(30, 16, 3), None).unwrap();
    let path = temp(name);
    persist::save(&idx, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn a_file_cut_exactly_at_the_trailer_boundary_is_refused() {
    for kind in [Kind::Flat, Kind::Plus, Kind::Asym] {
        let (path, bytes) = saved(kind, &format!("cut-{kind:?}"));
        let body = 32 + 30 * (4 + 16 * 4);
        std::fs::write(&path, &bytes[..body]).unwrap();
        let e = persist::load(&path, None).err().expect("a cut file must not load");
        assert!(e.message.contains("trailer follows"), "{kind:?}: {}", e.message);
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn upstream_still_reads_files_that_carry_the_trailer_marker() {
    let (path, _) = saved(Kind::Plus, "upstream");
    let theirs = ruvector_rabitq::persist::load_index(&mut std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(ruvector_rabitq::AnnIndex::len(&theirs), 30);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn special_files_are_refused_without_reading_or_blocking() {
    let e = persist::load(std::path::Path::new("/dev/zero"), None).err().unwrap();
    assert!(e.message.contains("character device"), "{}", e.message);
    let fifo = temp("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = persist::load(&fifo, None).err().unwrap();
    assert!(e.message.contains("a FIFO"), "{}", e.message);
    std::fs::remove_file(&fifo).unwrap();
}

#[test]
fn a_file_larger_than_its_header_allows_is_refused_before_reading() {
    let (path, mut bytes) = saved(Kind::Flat, "oversized");
    bytes.resize(bytes.len() + (1 << 20), 0);
    std::fs::write(&path, &bytes).unwrap();
    let e = persist::load(&path, None).err().unwrap();
    assert!(e.message.contains("more than the"), "{}", e.message);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_tiny_header_declaring_a_huge_rotation_is_refused_on_the_calling_thread() {
    let mut head = Vec::new();
    head.extend_from_slice(b"rbpx0001");
    head.extend_from_slice(&1u32.to_le_bytes());
    head.extend_from_slice(&2048u32.to_le_bytes());
    head.extend_from_slice(&42u64.to_le_bytes());
    head.extend_from_slice(&20u32.to_le_bytes());
    head.extend_from_slice(&0u32.to_le_bytes());
    let path = temp("rotation");
    std::fs::write(&path, &head).unwrap();
    let e = persist::load_sync(&path, None).err().unwrap();
    assert!(e.message.contains("stored dim 2048 needs a 2048×2048 random rotation"), "{}", e.message);
    assert!(e.message.contains("above the limit 1024 of this load"), "{}", e.message);
    std::fs::remove_file(&path).unwrap();
}
