//! Export of every record of a kind as JSON Lines with every field (private ones included);
//! importing the export into an empty instance gives back the same records.

use super::{App, AppError};
use crate::domain::RecordKind;
use crate::wire::{self, Visibility};

impl App {
    /// Calls `write_line` with each record as one JSON line (ending in `\n`), in id order;
    /// stops early when `write_line` returns false (the reader went away).
    pub fn export(&self, kind: RecordKind, write_line: &mut dyn FnMut(Vec<u8>) -> bool) -> Result<u64, AppError> {
        let regions = &self.vocabulary().regions;
        let mut written = 0u64;
        let mut failure: Option<serde_json::Error> = None;
        let mut send = |line: Result<Vec<u8>, serde_json::Error>| match line {
            Ok(mut line) => {
                line.push(b'\n');
                written += 1;
                write_line(line)
            }
            Err(error) => {
                failure = Some(error);
                false
            }
        };
        match kind {
            RecordKind::Expert => self.store().scan_experts(&mut |expert| {
                send(serde_json::to_vec(&wire::expert_view(
                    &expert,
                    regions,
                    Visibility::Admin,
                )))
            })?,
            RecordKind::Case => self
                .store()
                .scan_cases(&mut |case| send(serde_json::to_vec(&wire::case_view(&case, regions))))?,
        }
        if let Some(error) = failure {
            return Err(AppError::Internal(format!("could not encode a record: {error}")));
        }
        Ok(written)
    }
}
