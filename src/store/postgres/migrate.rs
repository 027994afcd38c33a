//! Copying another store (the embedded one) into an empty PostgreSQL database: records with
//! their versions and times, every audit entry, merge redirects, contact requests with their
//! ids, the kept erasure list and admin tokens, in one transaction.

use super::PgStore;
use super::write::PgTx;
use crate::domain::RecordKind;
use crate::store::{RecordStore, StoreError, Transaction};

/// What a copy moved.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub experts: u64,
    pub cases: u64,
    pub audit_entries: u64,
    pub redirects: u64,
    pub contact_requests: u64,
    pub erasures: u64,
    pub tokens: u64,
}

/// Runs `visit` over a scan whose callback cannot fail, keeping the first error it met.
fn scan_into<T>(
    scan: impl FnOnce(&mut dyn FnMut(T) -> bool) -> Result<(), StoreError>,
    mut write: impl FnMut(T) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let mut failure = None;
    let mut count = 0;
    scan(&mut |item| match write(item) {
        Ok(()) => {
            count += 1;
            true
        }
        Err(error) => {
            failure = Some(error);
            false
        }
    })?;
    failure.map_or(Ok(count), Err)
}

impl PgStore {
    /// Copies everything `source` holds into this database, which must be empty; nothing is
    /// kept when the copy fails.
    pub fn copy_from(&self, source: &dyn RecordStore) -> Result<CopyReport, StoreError> {
        self.ensure_empty()?;
        let mut report = CopyReport::default();
        let mut transaction = PgTx::begin(self)?;
        let tx = &mut transaction;
        report.experts = scan_into(|visit| source.scan_experts(visit), |expert| tx.put_expert(expert))?;
        report.cases = scan_into(|visit| source.scan_cases(visit), |case| tx.put_case(case))?;
        report.audit_entries = scan_into(
            |visit| source.scan_audit(visit),
            |row| tx.append_audit(row.kind, &row.id, &row.entry, row.in_clear),
        )?;
        for (kind, from, to) in source.redirects()? {
            tx.put_redirect(kind, &from, &to)?;
            report.redirects += 1;
        }
        for request in source.contact_requests()? {
            tx.insert_contact_request(&request)?;
            report.contact_requests += 1;
        }
        for erasure in source.erasures()? {
            tx.insert_erasure(&erasure)?;
            report.erasures += 1;
        }
        tx.advance_seq_to(source.last_seq()?);
        Box::new(transaction).commit()?;
        for token in source.tokens()? {
            self.put_token(&token)?;
            report.tokens += 1;
        }
        Ok(report)
    }

    fn ensure_empty(&self) -> Result<(), StoreError> {
        let holds = self.last_seq()? > 0
            || self.count(RecordKind::Expert)? > 0
            || self.count(RecordKind::Case)? > 0
            || !self.tokens()?.is_empty();
        if holds {
            return Err(StoreError::Unsupported(
                "the database holds citypeers data already; migrate into an empty database".into(),
            ));
        }
        Ok(())
    }
}
