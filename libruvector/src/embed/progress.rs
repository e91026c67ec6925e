//! Progress and cancellation of one long embedding call, shared between the
//! worker that embeds and the host that watches (and may cancel) it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::{Error, Result, Status};

/// Texts embedded so far, and whether the caller asked to stop.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    cancelled: AtomicBool,
}

impl Progress {
    /// Texts embedded so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Asks the running call to stop before its next chunk.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub(crate) fn add(&self, texts: usize) {
        self.done.fetch_add(texts as u64, Ordering::Relaxed);
    }

    /// An `Embed` error once [`cancel`](Self::cancel) was called.
    pub(crate) fn check(&self, total: usize) -> Result<()> {
        if !self.cancelled.load(Ordering::Relaxed) {
            return Ok(());
        }
        Err(Error::new(Status::Embed, format!("embedding cancelled after {} of {total} texts", self.done())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_cancels() {
        let p = Progress::default();
        p.add(32);
        p.add(8);
        assert_eq!(p.done(), 40);
        assert!(p.check(100).is_ok());
        p.cancel();
        let e = p.check(100).unwrap_err();
        assert_eq!(e.status, Status::Embed);
        assert_eq!(e.message, "embedding cancelled after 40 of 100 texts");
    }
}
