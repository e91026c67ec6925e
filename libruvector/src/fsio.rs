//! Safe file access for everything the library reads or writes.
//!
//! Reads: only regular files, opened without blocking (a FIFO would block
//! `open` forever) and read up to a cap derived from what the file should hold
//! (`/dev/zero` or a huge file cannot grow the process).
//!
//! Writes: [`temporary_path`] names a temporary sibling after the writing
//! process and its start time, so [`reclaim_stale_temporaries`] can remove the
//! leftovers of a process that died mid-write (a reused pid has another start
//! time). The TypeScript writers use the same scheme.

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Error, Result, Status};

/// Opens `path` for reading if it is a regular file; returns it with its size.
pub fn open_regular(path: &Path, what: &str) -> Result<(File, u64)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::io(&format!("cannot read {what} {}", path.display()), e))?;
    let meta = file.metadata().map_err(|e| Error::io(&format!("cannot stat {what} {}", path.display()), e))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let is = if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        return Err(Error::new(Status::Io, format!("{what} {} is {is}; only regular files are read", path.display())));
    }
    Ok((file, meta.len()))
}

/// The whole of a regular file, refused by size before reading when it is
/// larger than `cap` bytes.
pub fn read_capped(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>> {
    let (file, size) = open_regular(path, what)?;
    check_size(path, size, cap, what)?;
    read_rest(file, path, size, what)
}

/// Fails when `size` exceeds `cap`, naming both.
pub fn check_size(path: &Path, size: u64, cap: u64, what: &str) -> Result<()> {
    if size > cap {
        return Err(Error::new(Status::Io, format!("{what} {} is {size} bytes, more than the {cap} it can hold", path.display())));
    }
    Ok(())
}

/// Reads what is left of `file`, expecting exactly `size` bytes in total (a
/// file that grows or shrinks while read is an error, never a silent truncation).
pub fn read_rest(mut file: File, path: &Path, size: u64, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(size as usize);
    (&mut file).take(size + 1).read_to_end(&mut bytes).map_err(|e| Error::io(&format!("cannot read {what} {}", path.display()), e))?;
    if bytes.len() as u64 != size {
        return Err(Error::new(Status::Io, format!("{what} {} changed size while read: {size} bytes expected, {} read", path.display(), bytes.len())));
    }
    Ok(bytes)
}

/// This process's start time in clock ticks since boot (0 where unknown).
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22; the command name (field 2) may contain spaces, so count from its closing parenthesis.
    stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
}

fn own_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let pid = std::process::id();
        format!("{pid}-{}", start_time(pid).unwrap_or(0))
    })
}

/// Longest file name most file systems accept, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// `dir/.{name}.tmp-{pid}-{start time}-{n}`: unique per write, and traceable to
/// its writer. A long `name` is shortened so the temporary still fits a file name.
pub fn temporary_path(dir: &Path, name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let suffix = format!(".tmp-{}-{}", own_token(), NEXT.fetch_add(1, Ordering::Relaxed));
    let mut keep = name.len().min(MAX_NAME_BYTES - 1 - suffix.len());
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    dir.join(format!(".{}{suffix}", &name[..keep]))
}

/// Pid and start time of a temporary's writer, when `file_name` is one of ours.
fn writer_of(file_name: &str) -> Option<(u32, u64)> {
    if !file_name.starts_with('.') {
        return None;
    }
    let (_, tail) = file_name.rsplit_once(".tmp-")?;
    let mut parts = tail.split('-');
    let (pid, start, n) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !n.bytes().all(|b| b.is_ascii_digit()) || n.is_empty() {
        return None;
    }
    Some((pid.parse().ok()?, start.parse().ok()?))
}

fn is_alive(pid: u32, start: u64) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if let Some(now) = start_time(pid) {
        return start == 0 || now == start;
    }
    if Path::new("/proc/self/stat").exists() {
        return false;
    }
    // No procfs: ask the kernel whether the pid exists (signal 0 delivers nothing).
    // SAFETY: kill with signal 0 has no effect beyond the existence check.
    unsafe { libc::kill(pid as i32, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

/// Removes temporaries in `dir` left by processes that no longer run.
/// Best effort: a directory that cannot be listed is left alone.
pub fn reclaim_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((pid, start)) = name.to_str().and_then(writer_of) else { continue };
        if !is_alive(pid, start) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// An exclusive advisory lock (`flock`) on a lock file, released when dropped
/// or when the process dies, so a crashed holder never leaves it stale.
pub struct FileLock(std::os::fd::OwnedFd);

impl FileLock {
    /// Locks `path` (created if missing), waiting at most `timeout`; `None`
    /// when another holder still has it then.
    pub fn acquire(path: &Path, timeout: std::time::Duration) -> Result<Option<Self>> {
        use std::os::fd::AsRawFd;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| Error::io(&format!("cannot open lock file {}", path.display()), e))?;
        let deadline = std::time::Instant::now() + timeout;
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(Some(Self(file.into())));
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(Error::io(&format!("cannot lock {}", path.display()), err));
            }
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// The locked descriptor, handed to a caller that releases it with [`FileLock::release`].
    pub fn into_raw_fd(self) -> i32 {
        std::os::fd::IntoRawFd::into_raw_fd(self.0)
    }

    /// Releases a lock taken with [`FileLock::into_raw_fd`].
    ///
    /// # Safety
    /// `fd` must come from `into_raw_fd` and be released once.
    pub unsafe fn release(fd: i32) {
        drop(<std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_name_their_writer() {
        let p = temporary_path(Path::new("/d"), "index.rbpx");
        let name = p.file_name().unwrap().to_str().unwrap();
        let (pid, _) = writer_of(name).unwrap();
        assert_eq!(pid, std::process::id());
        assert!(is_alive(pid, start_time(pid).unwrap()));
        assert_eq!(writer_of(".a.tmp-12-x-3"), None);
        assert_eq!(writer_of("a.tmp-12-5-3"), None);
        assert_eq!(writer_of(".a-b.tmp-12-5-3"), Some((12, 5)));
        let long = temporary_path(Path::new("/d"), &"é".repeat(200));
        let name = long.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= 255 && writer_of(name).is_some(), "{name}");
    }

    #[test]
    fn a_dead_writers_temporaries_are_reclaimed_and_a_live_ones_kept() {
        let dir = std::env::temp_dir().join(format!("ruvector-fsio-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mine = temporary_path(&dir, "x");
        fs::write(&mine, b"live").unwrap();
        let dead = dir.join(".x.tmp-4194303-1-0");
        fs::write(&dead, b"orphan").unwrap();
        let reused = dir.join(format!(".x.tmp-1-{}-0", start_time(1).unwrap_or(0) + 1));
        fs::write(&reused, b"pid reused").unwrap();
        reclaim_stale_temporaries(&dir);
        assert!(mine.exists());
        assert!(!dead.exists());
        assert!(!reused.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn special_files_are_refused_before_reading() {
        let e = read_capped(Path::new("/dev/zero"), 1 << 20, "index file").unwrap_err();
        assert!(e.message.contains("a character device"), "{}", e.message);
        let e = read_capped(Path::new("/tmp"), 1 << 20, "index file").unwrap_err();
        assert!(e.message.contains("a directory"), "{}", e.message);
        let fifo = std::env::temp_dir().join(format!("ruvector-fifo-{}", std::process::id()));
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_capped(&fifo, 1 << 20, "sidecar").unwrap_err();
        assert!(e.message.contains("a FIFO"), "{}", e.message);
        fs::remove_file(&fifo).unwrap();
    }

    #[test]
    fn a_file_over_its_cap_is_refused_by_size() {
        let path = std::env::temp_dir().join(format!("ruvector-cap-{}", std::process::id()));
        fs::write(&path, vec![0u8; 100]).unwrap();
        let e = read_capped(&path, 99, "sidecar").unwrap_err();
        assert!(e.message.contains("is 100 bytes, more than the 99"), "{}", e.message);
        assert_eq!(read_capped(&path, 100, "sidecar").unwrap().len(), 100);
        fs::remove_file(&path).unwrap();
    }
}
