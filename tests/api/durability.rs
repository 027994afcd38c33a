//! Durability: restarts keep everything, the index catches up with the store after a crash,
//! and an import killed with SIGKILL loses nothing it acknowledged.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use citypeers::domain::{Expert, ExpertDraft, Status, Versioned};
use citypeers::store::Store;
use serde_json::{Value, json};

use crate::helpers::{ServerOptions, TestServer, expert_body};

#[test]
fn a_restart_on_an_existing_data_directory_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), ServerOptions::default());
    let created = server.admin_post(
        "/v1/admin/experts",
        &expert_body("lea-brandt", "Lea Brandt", "Leipzig", "DE"),
    );
    assert_eq!(created.status(), 201);
    let case = json!({"id": "tram-leipzig", "title": "Tram priority in Leipzig", "summary": "Signal priority for trams cut travel times.", "city": "Leipzig", "country": "DE", "topics": ["mobility"], "experts": ["lea-brandt"], "status": "published"});
    assert_eq!(server.admin_post("/v1/admin/cases", &case).status(), 201);
    server.stop();

    let restarted = TestServer::start_in(dir.path(), ServerOptions::default());
    assert_eq!(restarted.get_json("/v1/experts/lea-brandt")["name"], "Lea Brandt");
    assert_eq!(
        restarted.get_json("/v1/cases/tram-leipzig")["experts"],
        json!(["lea-brandt"])
    );
    let found = restarted.get_json("/v1/experts?q=cycling");
    assert_eq!(found["total"], 1);
    let audit: Value = restarted
        .admin_get("/v1/admin/audit?entity=experts/lea-brandt")
        .json()
        .unwrap();
    assert_eq!(audit["entries"].as_array().unwrap().len(), 1);
}

#[test]
fn a_record_in_the_store_but_not_yet_in_the_index_is_searchable_after_restart() {
    if crate::helpers::embedded_store_only("a_record_in_the_store_but_not_yet_in_the_index_is_searchable_after_restart")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    TestServer::start_in(dir.path(), ServerOptions::default()).stop();

    // A crash between the store's flush and the index commit: only the store has the record.
    let store = Store::open_embedded(dir.path(), 0).unwrap();
    let draft = ExpertDraft {
        id: Some("orphan-in-store".into()),
        name: Some("Kofi Mensah".into()),
        city: Some("Kumasi".into()),
        country: Some("GH".into()),
        languages: Some(vec!["en".into()]),
        topics: Some(vec!["waste".into()]),
        expertise: Some("Composting of market waste and landfill gas capture.".into()),
        status: Some("published".into()),
        ..ExpertDraft::default()
    };
    let expert = Expert::parse(draft, Status::Published).unwrap();
    let now = time::OffsetDateTime::now_utc();
    store
        .write(|tx| -> Result<(), citypeers::store::StoreError> {
            tx.put_expert(Versioned {
                record: expert,
                version: 1,
                created_at: now,
                updated_at: now,
            })
        })
        .unwrap();
    drop(store);

    let server = TestServer::start_in(dir.path(), ServerOptions::default());
    let found = server.get_json("/v1/experts?q=composting");
    assert_eq!(found["hits"][0]["expert"]["id"], "orphan-in-store");
    let ready = server.get_json("/readyz");
    assert_eq!(ready["store_seq"], ready["index_seq"]);
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_citypeers")
}

#[test]
fn an_import_killed_at_a_random_moment_loses_no_acknowledged_record() {
    if crate::helpers::embedded_store_only("an_import_killed_at_a_random_moment_loses_no_acknowledged_record") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let generated = work.path().join("generated");
    let status = Command::new(binary())
        .args([
            "generate",
            "--experts",
            "10000",
            "--cases",
            "0",
            "--seed",
            "11",
            "--output",
        ])
        .arg(&generated)
        .status()
        .unwrap();
    assert!(status.success());
    let data = work.path().join("data");

    // Wait for a random number of acknowledged chunks (1..=8 of 10), then SIGKILL.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let chunks_to_wait = 1 + (nanos % 8) as usize;
    let mut child = Command::new(binary())
        .arg("import")
        .arg(generated.join("experts.jsonl"))
        .args(["--kind", "experts", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acknowledged = 0u64;
    let mut seen_chunks = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("acknowledged ") {
            acknowledged = rest.split_whitespace().next().unwrap().parse().unwrap();
            seen_chunks += 1;
            if seen_chunks >= chunks_to_wait {
                break;
            }
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        acknowledged >= 1000,
        "waited for {chunks_to_wait} chunks, saw {acknowledged}"
    );

    // Start again: the index catches up, and every acknowledged record is found.
    let server = TestServer::start_in(&data, ServerOptions::default());
    let export = server.admin_get("/v1/admin/export?kind=experts").text().unwrap();
    let stored = export.lines().count() as u64;
    assert!(
        stored >= acknowledged,
        "store has {stored}, the import acknowledged {acknowledged}"
    );
    let listing: Value = server.admin_get("/v1/admin/experts?limit=1").json().unwrap();
    assert_eq!(
        listing["total"].as_u64().unwrap(),
        stored,
        "store and index agree (waited for {chunks_to_wait} chunks)"
    );
    let mut indexed = std::collections::HashSet::new();
    let mut offset = 0;
    while offset < stored.min(10_000) {
        let page: Value = server
            .admin_get(&format!("/v1/admin/experts?limit=100&offset={offset}"))
            .json()
            .unwrap();
        for hit in page["hits"].as_array().unwrap() {
            indexed.insert(hit["expert"]["id"].as_str().unwrap().to_string());
        }
        offset += 100;
    }
    for number in 0..acknowledged {
        let id = format!("gen-11-e{number}");
        assert!(
            indexed.contains(&id),
            "{id} was acknowledged but is not found by search"
        );
    }
}
