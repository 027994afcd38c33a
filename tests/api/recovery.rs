//! Recovery: whatever state a crash leaves the index in, the next start comes up by itself —
//! stray files are removed, an index that cannot be opened is rebuilt from the store in the
//! background while /readyz says why, and `citypeers reindex` works on such a directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ServerOptions, TestServer, expert_body};

fn experts_index(data: &Path) -> PathBuf {
    data.join("index").join("experts")
}

fn meta(index: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(index.join("meta.json")).unwrap()).unwrap()
}

/// A data directory with a few experts, its server stopped.
fn data_with_experts(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), ServerOptions::default());
    for number in 0..count {
        let id = format!("expert-{number}");
        let created = server.admin_post("/v1/admin/experts", &expert_body(&id, "Rosa Quispe", "Cusco", "PE"));
        assert_eq!(created.status(), 201);
    }
    server.stop();
    dir
}

#[test]
fn delete_files_a_crash_left_behind_do_not_stop_the_next_commit() {
    let dir = data_with_experts(3);
    let index = experts_index(dir.path());
    let metas = meta(&index);
    let opstamp = metas["opstamp"].as_u64().unwrap();
    // A crash after tantivy wrote a delete file but before the commit that names it: the
    // next commits would want the same file names (FileAlreadyExists before this fix).
    let mut stray = 0;
    for segment in metas["segments"].as_array().unwrap() {
        let uuid = segment["segment_id"].as_str().unwrap().replace('-', "");
        for next in opstamp + 1..opstamp + 200 {
            std::fs::write(index.join(format!("{uuid}.{next}.del")), b"half-written").unwrap();
            stray += 1;
        }
    }
    std::fs::write(index.join("0123456789abcdef0123456789abcdef.idx"), b"orphan segment").unwrap();
    assert!(stray > 0);

    let server = TestServer::start_in(dir.path(), ServerOptions::default());
    let leftover = std::fs::read_dir(&index)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("0123456789abcdef")
        })
        .count();
    assert_eq!(leftover, 0, "stray files are removed at start");
    for number in 0..3 {
        let patched = server
            .admin(
                server
                    .client
                    .patch(server.url(&format!("/v1/admin/experts/expert-{number}"))),
            )
            .header("if-match", "*")
            .json(&json!({"city": "Arequipa"}))
            .send()
            .unwrap();
        assert_eq!(patched.status(), 200, "a write after the crash");
    }
    let found = server.get_json("/v1/experts?q=Arequipa");
    assert_eq!(found["total"], 3);
}

/// Polls `/readyz` until it answers 200; returns what it said while not ready.
fn wait_until_ready(server: &TestServer) -> Vec<Value> {
    let started = Instant::now();
    let mut while_not_ready = Vec::new();
    loop {
        let response = server.get("/readyz");
        if response.status() == 200 {
            return while_not_ready;
        }
        assert_eq!(response.status(), 503);
        while_not_ready.push(response.json().unwrap());
        assert!(started.elapsed() < Duration::from_secs(120), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_index_that_cannot_be_opened_is_rebuilt_from_the_store_while_readyz_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = TestServer::start_in(
        dir.path(),
        ServerOptions {
            demo_data: true,
            ..ServerOptions::default()
        },
    );
    let before: Value = seeded.admin_get("/v1/admin/experts?limit=0").json().unwrap();
    seeded.stop();
    std::fs::write(experts_index(dir.path()).join("meta.json"), b"{ not json").unwrap();

    let server = TestServer::start_in(
        dir.path(),
        ServerOptions {
            wait_until_indexed: false,
            ..ServerOptions::default()
        },
    );
    assert_eq!(server.get("/healthz").status(), 200, "alive while rebuilding");
    let refused = server.admin_post(
        "/v1/admin/experts",
        &expert_body("during-rebuild", "Ana Lima", "Recife", "BR"),
    );
    let not_ready = wait_until_ready(&server);
    if !not_ready.is_empty() {
        let message = not_ready[0]["error"]["message"].as_str().unwrap();
        assert!(message.contains("rebuilding"), "{message}");
        assert!(matches!(refused.status().as_u16(), 201 | 503));
    }
    let after: Value = server.admin_get("/v1/admin/experts?limit=0").json().unwrap();
    assert!(after["total"].as_u64().unwrap() >= before["total"].as_u64().unwrap());
    assert!(server.get_json("/v1/experts?q=Hochwasser")["total"].as_u64().unwrap() > 0);
    assert!(
        !dir.path().join("index").join("experts.unusable").exists(),
        "the old index is removed once rebuilt"
    );
}

#[test]
fn reindex_works_on_a_directory_whose_index_is_damaged() {
    if crate::helpers::embedded_store_only("reindex_works_on_a_directory_whose_index_is_damaged") {
        return;
    }
    let dir = data_with_experts(4);
    let index = experts_index(dir.path());
    std::fs::write(index.join("meta.json"), b"garbage").unwrap();
    std::fs::write(index.join("ffffffffffffffffffffffffffffffff.7.del"), b"stray").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_citypeers"))
        .args(["reindex", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("reindexed 4 records"), "{printed}");
    let server = TestServer::start_in(dir.path(), ServerOptions::default());
    assert_eq!(server.get_json("/v1/experts?q=Cusco")["total"], 4);
}
