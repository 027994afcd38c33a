//! The PostgreSQL schema and its versioned migrations. Every node runs them at start under an
//! advisory lock, so that nodes starting together apply each migration exactly once.

use tokio_postgres::Client;

use super::pg_error;
use crate::store::StoreError;

/// The advisory lock that serialises migrations across nodes ("citypeer" in ASCII).
const MIGRATION_LOCK: i64 = 0x6369_7479_7065_6572;

/// Each migration, in order; a migration is never edited once released, only added to.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        r#"
    CREATE TABLE cp_meta (name text PRIMARY KEY, value bigint NOT NULL);
    INSERT INTO cp_meta (name, value) VALUES ('seq', 0), ('pruned_through', 0);

    CREATE SEQUENCE cp_key_slots START 1;
    CREATE TABLE cp_keys (slot bigint PRIMARY KEY, key bytea NOT NULL);

    CREATE TABLE cp_records (
        kind text NOT NULL,
        id text COLLATE "C" NOT NULL,
        slot bigint NOT NULL,
        envelope bytea NOT NULL,
        PRIMARY KEY (kind, id)
    );
    CREATE TABLE cp_case_experts (
        expert_id text COLLATE "C" NOT NULL,
        case_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (expert_id, case_id)
    );
    CREATE INDEX cp_case_experts_case ON cp_case_experts (case_id);

    CREATE TABLE cp_audit (
        kind text NOT NULL,
        id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        slot bigint NOT NULL,
        envelope bytea NOT NULL,
        PRIMARY KEY (kind, id, seq)
    );
    CREATE TABLE cp_changes (
        seq bigint PRIMARY KEY,
        kind text NOT NULL,
        id text COLLATE "C" NOT NULL,
        erased boolean NOT NULL
    );
    CREATE TABLE cp_redirects (
        kind text NOT NULL,
        from_id text COLLATE "C" NOT NULL,
        to_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (kind, from_id)
    );
    CREATE INDEX cp_redirects_to ON cp_redirects (kind, to_id);
    CREATE TABLE cp_contact_requests (
        id text PRIMARY KEY,
        expert_id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        slot bigint NOT NULL,
        envelope bytea NOT NULL
    );
    CREATE INDEX cp_contact_requests_expert ON cp_contact_requests (expert_id);
    CREATE TABLE cp_tokens (name text PRIMARY KEY, body bytea NOT NULL);
    CREATE TABLE cp_erasures (seq bigint PRIMARY KEY, body bytea NOT NULL);
    CREATE TABLE cp_nodes (node text PRIMARY KEY, covered bigint NOT NULL, seen timestamptz NOT NULL);
    "#,
    ),
    (
        2,
        r#"
    CREATE TABLE cp_failed_logins (
        client text NOT NULL,
        window_start bigint NOT NULL,
        attempts bigint NOT NULL,
        PRIMARY KEY (client, window_start)
    );
    CREATE INDEX cp_failed_logins_window ON cp_failed_logins (window_start);
    "#,
    ),
];

/// Brings the schema to the newest version; safe when several nodes start at once.
pub async fn migrate(client: &mut Client) -> Result<i32, StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_error)?;
    let result = apply_missing(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_error);
    let version = result?;
    unlocked?;
    Ok(version)
}

async fn apply_missing(client: &mut Client) -> Result<i32, StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS cp_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(pg_error)?;
    let current: i32 = client
        .query_one("SELECT coalesce(max(version), 0) FROM cp_schema", &[])
        .await
        .map_err(pg_error)?
        .get(0);
    let newest = MIGRATIONS.last().map_or(0, |(version, _)| *version);
    if current > newest {
        return Err(StoreError::Engine(format!(
            "the database has schema version {current}, newer than this binary knows ({newest}); upgrade citypeers"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
        let transaction = client.transaction().await.map_err(pg_error)?;
        transaction.batch_execute(sql).await.map_err(pg_error)?;
        transaction
            .execute("INSERT INTO cp_schema (version) VALUES ($1)", &[version])
            .await
            .map_err(pg_error)?;
        transaction.commit().await.map_err(pg_error)?;
        tracing::info!(version, "applied a database migration");
    }
    Ok(newest)
}
