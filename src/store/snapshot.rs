//! Snapshots: one self-checking file holding every stored entry and the per-record keys, as
//! the store was at one sequence number. The index is not in it (it is rebuilt from the
//! store). Layout: a magic line, a JSON header line, then frames — `E` (key, value) for each
//! entry, `K` (bytes) for the key file — and `Z` with the SHA-256 of everything before it.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::StoreError;

const MAGIC: &[u8] = b"CITYPEERS-SNAPSHOT-1\n";
const ENTRY: u8 = b'E';
const KEY_FILE: u8 = b'K';
const END: u8 = b'Z';
/// The largest key or value a snapshot may hold (a guard against damaged files).
const MAX_FRAME_BYTES: u32 = 256 << 20;

/// What a snapshot holds, from its header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub format: u32,
    /// The store sequence the snapshot shows.
    pub seq: u64,
    pub created_at: String,
    pub experts: u64,
    pub cases: u64,
}

/// Writes a snapshot, hashing as it goes.
pub struct SnapshotWriter<'a> {
    out: &'a mut dyn Write,
    hasher: Sha256,
    bytes: u64,
}

impl<'a> SnapshotWriter<'a> {
    pub fn start(out: &'a mut dyn Write, info: &SnapshotInfo) -> Result<SnapshotWriter<'a>, StoreError> {
        let mut writer = SnapshotWriter {
            out,
            hasher: Sha256::new(),
            bytes: 0,
        };
        writer.put(MAGIC)?;
        let mut header = serde_json::to_vec(info)?;
        header.push(b'\n');
        writer.put(&header)?;
        Ok(writer)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.hasher.update(bytes);
        self.out.write_all(bytes).map_err(StoreError::from_io)?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    fn put_framed(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let length = u32::try_from(bytes.len()).map_err(|_| StoreError::Corrupt("an entry is too large".into()))?;
        self.put(&length.to_be_bytes())?;
        self.put(bytes)
    }

    pub fn entry(&mut self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.put(&[ENTRY])?;
        self.put_framed(key)?;
        self.put_framed(value)
    }

    pub fn key_file(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.put(&[KEY_FILE])?;
        self.put_framed(bytes)
    }

    /// Writes the checksum; returns the snapshot's size in bytes.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        self.put(&[END])?;
        let digest = std::mem::take(&mut self.hasher).finalize();
        self.out.write_all(&digest).map_err(StoreError::from_io)?;
        self.out.flush().map_err(StoreError::from_io)?;
        Ok(self.bytes + digest.len() as u64)
    }
}

/// One thing read from a snapshot.
pub enum Frame {
    Entry(Vec<u8>, Vec<u8>),
    KeyFile(Vec<u8>),
}

/// Reads a snapshot frame by frame; the checksum is verified at the end, so callers write
/// what they read somewhere new and keep it only when `read_all` succeeds.
fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("not a complete citypeers snapshot: {what}"))
}

struct SnapshotReader<'a> {
    input: &'a mut dyn Read,
    hasher: Sha256,
}

impl SnapshotReader<'_> {
    fn take(&mut self, count: usize) -> Result<Vec<u8>, StoreError> {
        let mut bytes = vec![0u8; count];
        self.input
            .read_exact(&mut bytes)
            .map_err(|_| corrupt("it ends too early"))?;
        self.hasher.update(&bytes);
        Ok(bytes)
    }

    fn take_framed(&mut self) -> Result<Vec<u8>, StoreError> {
        let length = self.take(4)?;
        let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]);
        if length > MAX_FRAME_BYTES {
            return Err(corrupt("an entry is too large"));
        }
        self.take(length as usize)
    }

    fn header(&mut self) -> Result<SnapshotInfo, StoreError> {
        if self.take(MAGIC.len())? != MAGIC {
            return Err(corrupt("it does not start like one"));
        }
        let mut line = Vec::new();
        loop {
            let byte = self.take(1)?[0];
            if byte == b'\n' {
                break;
            }
            line.push(byte);
            if line.len() > 64 * 1024 {
                return Err(corrupt("its header is too long"));
            }
        }
        let info: SnapshotInfo = serde_json::from_slice(&line).map_err(|_| corrupt("its header is unreadable"))?;
        if info.format != 1 {
            return Err(corrupt("it has a format this version does not read"));
        }
        Ok(info)
    }
}

/// Reads a whole snapshot, handing each frame to `visit`, and verifies its checksum.
pub fn read_all(
    input: &mut dyn Read,
    visit: &mut dyn FnMut(Frame) -> Result<(), StoreError>,
) -> Result<SnapshotInfo, StoreError> {
    let mut reader = SnapshotReader {
        input,
        hasher: Sha256::new(),
    };
    let info = reader.header()?;
    loop {
        match reader.take(1)?[0] {
            ENTRY => {
                let key = reader.take_framed()?;
                let value = reader.take_framed()?;
                visit(Frame::Entry(key, value))?;
            }
            KEY_FILE => {
                let bytes = reader.take_framed()?;
                visit(Frame::KeyFile(bytes))?;
            }
            END => break,
            _ => return Err(corrupt("it holds an unknown frame")),
        }
    }
    let expected = std::mem::take(&mut reader.hasher).finalize();
    let mut stored = [0u8; 32];
    reader
        .input
        .read_exact(&mut stored)
        .map_err(|_| corrupt("its checksum is missing"))?;
    if stored[..] != expected[..] {
        return Err(corrupt("its checksum does not match (the file is damaged)"));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let info = SnapshotInfo {
            format: 1,
            seq: 7,
            created_at: "2026-01-01T00:00:00.000Z".into(),
            experts: 1,
            cases: 0,
        };
        let mut bytes = Vec::new();
        let mut writer = SnapshotWriter::start(&mut bytes, &info).unwrap();
        writer.entry(b"r:e:ana", b"sealed").unwrap();
        writer.key_file(&[1, 2, 3]).unwrap();
        writer.finish().unwrap();
        bytes
    }

    #[test]
    fn a_snapshot_reads_back_what_was_written() {
        let bytes = sample();
        let mut entries = Vec::new();
        let info = read_all(&mut &bytes[..], &mut |frame| {
            if let Frame::Entry(key, value) = frame {
                entries.push((key, value));
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(info.seq, 7);
        assert_eq!(entries, vec![(b"r:e:ana".to_vec(), b"sealed".to_vec())]);
    }

    #[test]
    fn a_damaged_or_cut_snapshot_is_refused() {
        let mut bytes = sample();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        assert!(read_all(&mut &bytes[..], &mut |_| Ok(())).is_err());
        let cut = sample();
        assert!(read_all(&mut &cut[..cut.len() - 5], &mut |_| Ok(())).is_err());
        assert!(read_all(&mut &b"hello"[..], &mut |_| Ok(())).is_err());
    }
}
