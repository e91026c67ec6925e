//! Array storage that is either owned or borrowed from a read-only file
//! mapping, so a mapped index file is used in place: the inverted lists, codes
//! and store of an `mmap` load cost no copy and no heap, and the kernel pages
//! them in on first touch. A mutation copies the one array it touches into
//! owned storage first (copy-on-write); the mapping lives while any array
//! still borrows from it.

use std::fs::File;
use std::ops::Deref;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use crate::error::{Error, Result};

/// A whole file mapped read-only and private. Saving over the file is safe:
/// saves write a new file and rename it, and the mapping keeps the old inode.
/// Truncating the file in place while mapped is not (the kernel then raises
/// SIGBUS on a touch past the new end), which no writer of ours does.
pub struct Mapping {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the mapping is read-only for its whole life; shared reads of
// immutable memory from any thread are sound.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps all `len` bytes of `file` (`len` > 0, the file's size).
    pub fn map(file: &File, len: usize) -> Result<Arc<Self>> {
        if len == 0 {
            return Err(Error::invalid("cannot map an empty file"));
        }
        // SAFETY: a fresh private read-only mapping of an open descriptor; the
        // result is checked before use.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, file.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            return Err(Error::io(&format!("cannot map {len} bytes"), std::io::Error::last_os_error()));
        }
        Ok(Arc::new(Self { ptr: ptr as *const u8, len }))
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: ptr is a live mapping of len readable bytes until drop.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `map` mapped, once; no borrow outlives
        // self (every view holds an Arc to it).
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

/// Element types every bit pattern of which is a valid value.
pub trait Plain: Copy + PartialEq + std::fmt::Debug + 'static {
    fn from_le(b: &[u8]) -> Self;
}
impl Plain for u8 {
    fn from_le(b: &[u8]) -> Self {
        b[0]
    }
}
impl Plain for u16 {
    fn from_le(b: &[u8]) -> Self {
        u16::from_le_bytes([b[0], b[1]])
    }
}
impl Plain for u32 {
    fn from_le(b: &[u8]) -> Self {
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
}
impl Plain for u64 {
    fn from_le(b: &[u8]) -> Self {
        u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
    }
}
impl Plain for f32 {
    fn from_le(b: &[u8]) -> Self {
        f32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
}

#[derive(Clone)]
pub enum Slab<T: Plain> {
    Owned(Vec<T>),
    /// `len` values at byte `offset` of the mapping.
    Mapped { map: Arc<Mapping>, offset: usize, len: usize },
}

impl<T: Plain> Default for Slab<T> {
    fn default() -> Self {
        Slab::Owned(Vec::new())
    }
}

impl<T: Plain> Slab<T> {
    /// A view of little-endian `bytes` that lie inside `map`, in place when
    /// the host is little-endian and the bytes are aligned for `T`, else a copy.
    pub fn view(map: &Arc<Mapping>, bytes: &[u8]) -> Self {
        let size = size_of::<T>();
        let whole = map.bytes().as_ptr_range();
        let inside = whole.start <= bytes.as_ptr() && bytes.as_ptr_range().end <= whole.end;
        let in_place = inside && cfg!(target_endian = "little") && bytes.as_ptr().align_offset(align_of::<T>()) == 0 && bytes.len().is_multiple_of(size);
        if !in_place {
            return Self::decode(bytes);
        }
        Slab::Mapped { map: Arc::clone(map), offset: bytes.as_ptr() as usize - whole.start as usize, len: bytes.len() / size }
    }

    /// Owned values decoded from little-endian `bytes`.
    pub fn decode(bytes: &[u8]) -> Self {
        Slab::Owned(bytes.chunks_exact(size_of::<T>()).map(T::from_le).collect())
    }

    /// The values, made owned first if they were mapped.
    pub fn to_mut(&mut self) -> &mut Vec<T> {
        if let Slab::Mapped { .. } = self {
            *self = Slab::Owned(self.to_vec());
        }
        match self {
            Slab::Owned(v) => v,
            Slab::Mapped { .. } => unreachable!("made owned above"),
        }
    }

    pub fn shrink_to_fit(&mut self) {
        if let Slab::Owned(v) = self {
            v.shrink_to_fit();
        }
    }

    /// Heap bytes (0 while mapped).
    pub fn owned_bytes(&self) -> usize {
        match self {
            Slab::Owned(v) => v.capacity() * size_of::<T>(),
            Slab::Mapped { .. } => 0,
        }
    }

    /// Bytes read in place from the mapping (0 once owned).
    pub fn mapped_bytes(&self) -> usize {
        match self {
            Slab::Owned(_) => 0,
            Slab::Mapped { len, .. } => len * size_of::<T>(),
        }
    }
}

impl<T: Plain> Deref for Slab<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Slab::Owned(v) => v,
            // SAFETY: `view` checked that these bytes lie inside the mapping,
            // are aligned for T and hold whole values; every bit pattern is a
            // valid T; the Arc keeps the mapping alive as long as self.
            Slab::Mapped { map, offset, len } => unsafe { std::slice::from_raw_parts(map.bytes().as_ptr().add(*offset) as *const T, *len) },
        }
    }
}

impl<T: Plain> From<Vec<T>> for Slab<T> {
    fn from(v: Vec<T>) -> Self {
        Slab::Owned(v)
    }
}

impl<T: Plain> PartialEq for Slab<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Plain> std::fmt::Debug for Slab<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = if self.mapped_bytes() > 0 { "mapped" } else { "owned" };
        write!(f, "Slab({how}, {} values)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn mapped(bytes: &[u8]) -> Arc<Mapping> {
        let path = std::env::temp_dir().join(format!("ruv-slab-{}-{}", std::process::id(), bytes.len()));
        File::create(&path).unwrap().write_all(bytes).unwrap();
        let f = File::open(&path).unwrap();
        let map = Mapping::map(&f, bytes.len()).unwrap();
        std::fs::remove_file(&path).unwrap();
        map
    }

    #[test]
    fn views_in_place_when_aligned_and_copies_otherwise() {
        let values = [1.5f32, -2.0, 3.25];
        let bytes: Vec<u8> = [0u8; 4].into_iter().chain(values.iter().flat_map(|v| v.to_le_bytes())).chain([9]).collect();
        let map = mapped(&bytes);
        let aligned: Slab<f32> = Slab::view(&map, &map.bytes()[4..16]);
        assert_eq!((&*aligned, aligned.mapped_bytes(), aligned.owned_bytes()), (&values[..], 12, 0));
        let odd: Slab<f32> = Slab::view(&map, &map.bytes()[5..9]);
        assert_eq!(odd.mapped_bytes(), 0, "a misaligned view is a copy");
        let mut cow = aligned.clone();
        cow.to_mut().push(7.0);
        assert_eq!((&cow[..], cow.mapped_bytes()), (&[1.5, -2.0, 3.25, 7.0][..], 0));
        assert_eq!(&*aligned, &values[..], "the mapped original is untouched");
        drop(map);
        assert_eq!(aligned[2], 3.25, "views keep the mapping alive");
    }

    #[test]
    fn refuses_empty_files() {
        let f = File::open("/dev/null").unwrap();
        assert!(Mapping::map(&f, 0).is_err());
    }
}
