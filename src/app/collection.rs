//! Staff use cases over many records: likely duplicates, and the built-in demo data loaded
//! into an empty store.

use super::{Actor, App, AppError};
use crate::curation::demo::{DEMO_CASES, DEMO_EXPERTS};
use crate::curation::duplicates::{DuplicatePair, find_duplicates};
use crate::curation::import::ImportFormat;
use crate::domain::{Case, Expert};

impl App {
    /// Likely duplicate experts (archived ones left out), most similar first.
    pub fn duplicates(&self) -> Result<Vec<DuplicatePair>, AppError> {
        let experts = self.store().all_experts()?;
        Ok(find_duplicates(
            self.analyzers(),
            experts.iter().map(|expert| &expert.record),
        ))
    }

    /// Imports the demo experts and cases; returns how many of each were stored.
    pub(crate) fn load_demo_data(&self) -> Result<(u64, u64), AppError> {
        let actor = Actor::named("demo-data");
        let experts = DEMO_EXPERTS.concat();
        let cases = DEMO_CASES.concat();
        let expert_report =
            self.import_records::<Expert>(experts.as_bytes(), ImportFormat::JsonLines, &actor, &mut |_| {})?;
        let case_report =
            self.import_records::<Case>(cases.as_bytes(), ImportFormat::JsonLines, &actor, &mut |_| {})?;
        if !expert_report.rejected.is_empty() || !case_report.rejected.is_empty() {
            let first = expert_report.rejected.first().or(case_report.rejected.first());
            return Err(AppError::Internal(format!(
                "the built-in demo data has invalid records: {first:?}"
            )));
        }
        Ok((expert_report.acknowledged(), case_report.acknowledged()))
    }
}
