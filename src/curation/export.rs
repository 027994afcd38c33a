//! Export of every record of a kind as JSON Lines with every field (private ones included);
//! importing the export into an empty instance gives back the same records.

use crate::app::{App, AppError, EditableRecord};
use crate::domain::{Case, Expert, RecordKind};
use crate::wire::{self, Visibility};

impl App {
    /// Calls `write_line` with each record as one JSON line (ending in `\n`), in id order;
    /// stops early when `write_line` returns false (the reader went away).
    pub fn export(&self, kind: RecordKind, write_line: &mut dyn FnMut(Vec<u8>) -> bool) -> Result<u64, AppError> {
        let mut written = 0u64;
        match kind {
            RecordKind::Expert => {
                for expert in self.store().experts() {
                    let expert = expert?;
                    let mut line = serde_json::to_vec(&wire::expert_view(
                        &expert,
                        &self.vocabulary().regions,
                        Visibility::Admin,
                    ))
                    .map_err(|error| AppError::Internal(error.to_string()))?;
                    line.push(b'\n');
                    written += 1;
                    if !write_line(line) {
                        break;
                    }
                }
            }
            RecordKind::Case => {
                for case in self.store().cases() {
                    let case = case?;
                    let mut line = serde_json::to_vec(&wire::case_view(&case, &self.vocabulary().regions))
                        .map_err(|error| AppError::Internal(error.to_string()))?;
                    line.push(b'\n');
                    written += 1;
                    if !write_line(line) {
                        break;
                    }
                }
            }
        }
        let _ = (Expert::KIND, Case::KIND);
        Ok(written)
    }
}
