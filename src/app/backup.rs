//! Online backup and restore. A backup is a consistent snapshot of the store and its keys
//! (writes wait while it is taken, then go on); the index is not in it. A restore writes a
//! snapshot into a new data directory, rebuilds the index from it, and applies again every
//! erasure recorded after the snapshot was taken (from newer snapshots or erasure lists), so
//! that nobody erased comes back.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Actor, App, AppConfig, AppError, VersionCheck};
use crate::domain::{Case, Expert, RecordKind};
use crate::store::{Erasure, SnapshotInfo, Store, erasure_hash};

/// What a restore did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    pub snapshot: SnapshotInfo,
    /// Records erased again because a newer erasure list names them.
    pub erased_again: u64,
}

impl App {
    /// Writes a consistent snapshot to `out`.
    pub fn backup(&self, out: &mut dyn Write) -> Result<(SnapshotInfo, u64), AppError> {
        let (info, bytes) = self.store().snapshot(out)?;
        tracing::info!(seq = info.seq, bytes, "snapshot written");
        Ok((info, bytes))
    }

    /// Writes a snapshot to `path`: complete and synced, or not there at all.
    pub fn backup_to_file(&self, path: &Path) -> Result<(SnapshotInfo, u64), AppError> {
        write_atomically(path, |out| self.backup(out))
    }

    /// Every erasure this instance has made (its kept erasure list).
    pub fn erasures(&self) -> Result<Vec<Erasure>, AppError> {
        Ok(self.store().erasures()?)
    }

    /// Erases again every record an erasure in `erasures` names (by its hashed id).
    pub fn apply_erasures(&self, erasures: &[Erasure]) -> Result<u64, AppError> {
        let wanted: HashSet<(&str, &str)> = erasures
            .iter()
            .map(|erasure| (erasure.kind.as_str(), erasure.id_sha256.as_str()))
            .collect();
        let actor = Actor::named("restore");
        let mut erased = 0;
        let experts = self.store().all_experts()?;
        for expert in experts {
            let hash = erasure_hash(RecordKind::Expert, &expert.record.id);
            if wanted.contains(&("experts", hash.as_str())) {
                self.delete_record::<Expert>(expert.record.id.as_str(), VersionCheck::Any, true, &actor)?;
                erased += 1;
            }
        }
        for case in self.store().all_cases()? {
            let hash = erasure_hash(RecordKind::Case, &case.record.id);
            if wanted.contains(&("cases", hash.as_str())) {
                self.delete_record::<Case>(case.record.id.as_str(), VersionCheck::Any, true, &actor)?;
                erased += 1;
            }
        }
        Ok(erased)
    }
}

/// Runs `write` into `path.partial`, syncs it and renames it to `path`.
pub fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let io = |error: std::io::Error| AppError::from(crate::store::StoreError::from_io(error));
    let file = std::fs::File::create(&partial).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    let result = write(&mut out).and_then(|value| {
        let file = out.into_inner().map_err(|error| io(error.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&partial, path).map_err(io)?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// The erasures in a file: a snapshot, or an erasure list (JSON Lines of `Erasure`).
pub fn read_erasures(path: &Path) -> Result<Vec<Erasure>, String> {
    let bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    if bytes.starts_with(b"CITYPEERS-SNAPSHOT") {
        return Store::erasures_in_snapshot(&mut &bytes[..]).map_err(|error| format!("{}: {error}", path.display()));
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not an erasure list", path.display()))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(number, line)| {
            serde_json::from_str(line).map_err(|error| format!("{} line {}: {error}", path.display(), number + 1))
        })
        .collect()
}

/// Restores `snapshot` into the new data directory of `config`, rebuilds its index and
/// applies again the erasures in `later_erasures` that the snapshot does not know yet.
pub fn restore(snapshot: &Path, config: AppConfig, later_erasures: &[Erasure]) -> Result<Restored, String> {
    let mut file = std::fs::File::open(snapshot).map_err(|error| format!("{}: {error}", snapshot.display()))?;
    let info = Store::restore_embedded(&mut std::io::BufReader::new(&mut file), &config.data_dir)
        .map_err(|error| error.to_string())?;
    let app = App::open(config).map_err(|error| error.to_string())?;
    app.wait_until_indexed().map_err(|error| error.to_string())?;
    let known: HashSet<String> = app
        .erasures()
        .map_err(|error| error.to_string())?
        .into_iter()
        .map(|erasure| erasure.id_sha256)
        .collect();
    let newer: Vec<Erasure> = later_erasures
        .iter()
        .filter(|erasure| !known.contains(&erasure.id_sha256))
        .cloned()
        .collect();
    let erased_again = app.apply_erasures(&newer).map_err(|error| error.to_string())?;
    app.shutdown().map_err(|error| error.to_string())?;
    Ok(Restored {
        snapshot: info,
        erased_again,
    })
}
