//! Reading and writing the ledger: one gzipped JSON object, replaced only over the version a run
//! read. Two runs can never both spend the same cap: the one that loses the race reads the
//! ledger again and decides again.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use super::{FORMAT, Ledger};
use crate::error::AwsError;
use crate::ports::StateStore;

/// Writes tried, each after reading what another run wrote first, before a run gives up.
pub const ATTEMPTS: usize = 5;

/// What a run knows from earlier runs.
#[derive(Debug, Clone)]
pub enum Recall {
    /// No ledger is configured (`ROOTSWEEP_STATE`): the run decides from what it sees alone.
    Stateless,
    /// The ledger could not be read or understood: the run deletes nothing.
    Unreadable(LedgerError),
    Read(Held),
}

/// The ledger as a run holds it, and the version it may replace.
#[derive(Debug, Clone)]
pub struct Held {
    pub ledger: Arc<Ledger>,
    /// The object's ETag; `None` when there was none yet (a first run).
    pub version: Option<String>,
    /// The size of the object last read or written, and how long the reads and writes took.
    pub bytes: usize,
    pub read: Duration,
    pub written: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error(
        "the run ledger could not be read ({0}): check that the role may s3:GetObject it and s3:ListBucket its bucket (without ListBucket, S3 answers a missing object with AccessDenied)"
    )]
    Read(AwsError),
    #[error(
        "the run ledger is not one this rootsweep can read ({0}): restore an earlier version of the object (the state bucket is versioned), or delete it to start afresh (the cap then counts from zero)"
    )]
    Corrupt(String),
    #[error("the run ledger could not be written ({0}): check that the role may s3:PutObject it")]
    Write(AwsError),
    #[error(
        "other runs wrote the run ledger first {0} times in a row: too many runs at once; the next run tries again"
    )]
    Contended(usize),
}

/// Reads the ledger from `store`, if one is configured.
pub async fn recall(store: Option<&dyn StateStore>) -> Recall {
    let Some(store) = store else {
        return Recall::Stateless;
    };
    match load(store).await {
        Ok(held) => Recall::Read(held),
        Err(err) => Recall::Unreadable(err),
    }
}

async fn load(store: &dyn StateStore) -> Result<Held, LedgerError> {
    let started = Instant::now();
    let (ledger, version, bytes) = match store.load().await.map_err(LedgerError::Read)? {
        None => (Ledger::empty(), None, 0),
        Some(stored) => {
            let ledger = decode(&stored.body)?;
            (ledger, Some(stored.version), stored.body.len())
        }
    };
    Ok(Held {
        ledger: Arc::new(ledger),
        version,
        bytes,
        read: started.elapsed(),
        written: Duration::ZERO,
    })
}

pub fn encode(ledger: &Ledger) -> Vec<u8> {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to memory cannot fail, and the ledger is plain data.
    serde_json::to_writer(&mut gzip, ledger).expect("the ledger serializes");
    gzip.flush().expect("writing to memory");
    gzip.finish().expect("writing to memory")
}

pub fn decode(bytes: &[u8]) -> Result<Ledger, LedgerError> {
    let mut json = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|err| LedgerError::Corrupt(format!("not gzip: {err}")))?;
    let ledger: Ledger =
        serde_json::from_slice(&json).map_err(|err| LedgerError::Corrupt(err.to_string()))?;
    if ledger.format != FORMAT {
        return Err(LedgerError::Corrupt(format!(
            "format {}, where this rootsweep reads format {FORMAT}",
            ledger.format
        )));
    }
    Ok(ledger)
}

impl Held {
    /// Applies `change` and writes the result over the version held. `change` returns its
    /// result and whether to write at all. When another run wrote first, reads the ledger
    /// again and applies `change` to that, up to [`ATTEMPTS`] times.
    pub async fn update<T>(
        mut self,
        store: &dyn StateStore,
        mut change: impl FnMut(&mut Ledger) -> (T, bool),
    ) -> Result<(T, Held), LedgerError> {
        let (mut read, mut written) = (self.read, self.written);
        for _ in 0..ATTEMPTS {
            let mut next = Ledger::clone(&self.ledger);
            let (result, write) = change(&mut next);
            if !write {
                return Ok((result, self));
            }
            let body = encode(&next);
            let bytes = body.len();
            let started = Instant::now();
            let stored = store.store(body, self.version.as_deref()).await;
            written += started.elapsed();
            match stored {
                Ok(Some(version)) => {
                    let (ledger, version) = (Arc::new(next), Some(version));
                    let held = Held {
                        ledger,
                        version,
                        bytes,
                        read,
                        written,
                    };
                    return Ok((result, held));
                }
                Ok(None) => {
                    self = load(store).await?;
                    read += self.read;
                }
                Err(err) => return Err(LedgerError::Write(err)),
            }
        }
        Err(LedgerError::Contended(ATTEMPTS))
    }
}
