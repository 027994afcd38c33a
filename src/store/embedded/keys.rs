//! Per-record encryption keys, kept outside sled in one file of 32-byte slots so that erasing a
//! record can overwrite its key in place (crypto-shredding): sled's log may keep old bytes of
//! a record, but without the key they are unreadable.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::StoreError;
use crate::store::crypto::{KEY_BYTES, KeySlot, PLAINTEXT_SLOT};

pub struct KeyFile {
    file: File,
    next_slot: AtomicU64,
}

impl KeyFile {
    pub fn open(path: &Path) -> Result<KeyFile, StoreError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let length = file.metadata()?.len();
        let used_slots = length.div_ceil(KEY_BYTES as u64).max(1);
        Ok(KeyFile {
            file,
            next_slot: AtomicU64::new(used_slots),
        })
    }

    /// The whole key file (for a snapshot).
    pub fn contents(&self) -> Result<Vec<u8>, StoreError> {
        let length = self.file.metadata().map_err(StoreError::from_io)?.len();
        let mut bytes = vec![0u8; usize::try_from(length).unwrap_or(0)];
        self.file.read_exact_at(&mut bytes, 0).map_err(StoreError::from_io)?;
        Ok(bytes)
    }

    /// Hands out an unused slot; its key must be written with `write_keys` before use.
    pub fn reserve_slot(&self) -> KeySlot {
        self.next_slot.fetch_add(1, Ordering::SeqCst)
    }

    /// Writes keys to their slots and syncs once: they are durable when this returns.
    pub fn write_keys(&self, keys: &[(KeySlot, [u8; KEY_BYTES])]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<&(KeySlot, [u8; KEY_BYTES])> = keys.iter().collect();
        sorted.sort_by_key(|(slot, _)| *slot);
        let mut run_start = 0;
        while run_start < sorted.len() {
            let mut run_end = run_start + 1;
            while run_end < sorted.len() && sorted[run_end].0 == sorted[run_end - 1].0 + 1 {
                run_end += 1;
            }
            let mut bytes = Vec::with_capacity((run_end - run_start) * KEY_BYTES);
            for (_, key) in &sorted[run_start..run_end] {
                bytes.extend_from_slice(key);
            }
            self.file.write_all_at(&bytes, sorted[run_start].0 * KEY_BYTES as u64)?;
            run_start = run_end;
        }
        self.file.sync_data()?;
        Ok(())
    }

    /// The key of a slot, or `None` when it was destroyed (all zeros) or never written.
    pub fn key(&self, slot: KeySlot) -> Result<Option<[u8; KEY_BYTES]>, StoreError> {
        if slot == PLAINTEXT_SLOT {
            return Ok(None);
        }
        let mut key = [0u8; KEY_BYTES];
        match self.file.read_exact_at(&mut key, slot * KEY_BYTES as u64) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error.into()),
        }
        if key.iter().all(|byte| *byte == 0) {
            return Ok(None);
        }
        Ok(Some(key))
    }

    /// Overwrites a key with zeros and syncs: whatever it encrypted is unreadable from now on.
    pub fn destroy(&self, slot: KeySlot) -> Result<(), StoreError> {
        if slot == PLAINTEXT_SLOT {
            return Ok(());
        }
        self.file.write_all_at(&[0u8; KEY_BYTES], slot * KEY_BYTES as u64)?;
        self.file.sync_data()?;
        Ok(())
    }
}
