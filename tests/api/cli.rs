//! The command line: serve (address, clean shutdown), generate, import / export / search /
//! match / reindex on a data directory, and admin tokens.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::helpers::{ServerOptions, TestServer};

fn citypeers(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_citypeers"))
        .args(args)
        .output()
        .expect("run citypeers")
}

fn stdout_of(args: &[&str]) -> String {
    let output = citypeers(args);
    assert!(
        output.status.success(),
        "citypeers {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn serve_prints_its_address_and_stops_cleanly_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_citypeers"))
        .args(["serve", "--empty", "--addr", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .expect("address in the first line")
        .to_string();
    let health: Value = reqwest::blocking::get(format!("{address}/healthz"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|line| line.contains("stopped cleanly")), "{rest:?}");
}

#[test]
fn generate_is_deterministic_for_a_seed_and_realistic() {
    let first = stdout_of(&["generate", "--experts", "50", "--cases", "10", "--seed", "5"]);
    let again = stdout_of(&["generate", "--experts", "50", "--cases", "10", "--seed", "5"]);
    let other = stdout_of(&["generate", "--experts", "50", "--cases", "10", "--seed", "6"]);
    assert_eq!(first, again);
    assert_ne!(first, other);
    let lines: Vec<Value> = first.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 60);
    let languages: std::collections::HashSet<&str> = lines[..50]
        .iter()
        .filter_map(|expert| expert["languages"][0].as_str())
        .collect();
    assert!(languages.len() >= 3, "{languages:?}");
    assert!(
        lines[..50]
            .iter()
            .all(|expert| expert["expertise"].as_str().unwrap().len() > 40)
    );
    assert!(
        lines[50..]
            .iter()
            .all(|case| case["title"].is_string() && case["summary"].is_string())
    );
}

#[test]
fn a_command_whose_reader_stops_early_ends_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    // Megabytes of JSON Lines on stdout; the reader takes a few bytes and closes the pipe, as
    // `citypeers generate | head` does.
    let mut child = Command::new(env!("CARGO_BIN_EXE_citypeers"))
        .args(["generate", "--experts", "5000", "--cases", "0", "--seed", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        output.status
    );
}

#[test]
fn import_export_search_match_and_reindex_work_on_a_data_directory() {
    if crate::helpers::embedded_store_only("import_export_search_match_and_reindex_work_on_a_data_directory") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let data_arg = data.to_str().unwrap();
    stdout_of(&[
        "generate",
        "--experts",
        "300",
        "--cases",
        "60",
        "--seed",
        "2",
        "--output",
        work.path().join("gen").to_str().unwrap(),
    ]);
    let imported = stdout_of(&[
        "import",
        work.path().join("gen/experts.jsonl").to_str().unwrap(),
        "--data",
        data_arg,
    ]);
    assert!(imported.contains("300 created"), "{imported}");
    let cases = stdout_of(&[
        "import",
        work.path().join("gen/cases.jsonl").to_str().unwrap(),
        "--data",
        data_arg,
    ]);
    assert!(cases.contains("60 created"), "{cases}");
    let again = stdout_of(&[
        "import",
        work.path().join("gen/experts.jsonl").to_str().unwrap(),
        "--data",
        data_arg,
    ]);
    assert!(again.contains("300 unchanged"), "{again}");

    let search: Value = serde_json::from_str(&stdout_of(&[
        "search", "drainage", "--json", "--limit", "5", "--data", data_arg,
    ]))
    .unwrap();
    assert!(search["total"].as_u64().unwrap() > 0);
    let matched: Value = serde_json::from_str(&stdout_of(&[
        "match", "flood", "early", "warning", "--json", "--data", data_arg,
    ]))
    .unwrap();
    assert!(!matched["matches"].as_array().unwrap().is_empty());
    let readable = stdout_of(&["match", "waste", "collection", "--lang", "de", "--data", data_arg]);
    assert!(readable.contains("1."), "{readable}");

    let exported = stdout_of(&["export", "--kind", "experts", "--data", data_arg]);
    assert_eq!(exported.lines().count(), 300);
    let reindexed = stdout_of(&["reindex", "--data", data_arg]);
    assert!(reindexed.contains("reindexed 360 records"), "{reindexed}");
    let after: Value = serde_json::from_str(&stdout_of(&[
        "search", "drainage", "--json", "--limit", "5", "--data", data_arg,
    ]))
    .unwrap();
    assert_eq!(after["total"], search["total"]);

    let missing = citypeers(&["import", "/no/such/file.jsonl", "--data", data_arg]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("error:"));
}

#[test]
fn tokens_made_on_the_command_line_open_the_admin_api_until_revoked() {
    if crate::helpers::embedded_store_only("tokens_made_on_the_command_line_open_the_admin_api_until_revoked") {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let data_arg = data.path().to_str().unwrap();
    let secret = stdout_of(&["token", "create", "maria", "--data", data_arg])
        .trim()
        .to_string();
    assert!(secret.len() >= 32);
    assert!(stdout_of(&["token", "list", "--data", data_arg]).contains("maria"));
    let list_output = stdout_of(&["token", "list", "--data", data_arg]);
    assert!(!list_output.contains(&secret), "the secret is never shown again");

    let server = TestServer::start_in(data.path(), ServerOptions::default());
    let created = server
        .client
        .post(server.url("/v1/admin/experts"))
        .bearer_auth(&secret)
        .json(&crate::helpers::expert_body("nils-weber", "Nils Weber", "Bonn", "DE"))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let audit: Value = server
        .admin_get("/v1/admin/audit?entity=experts/nils-weber")
        .json()
        .unwrap();
    assert_eq!(audit["entries"][0]["actor"], "maria");
    server.stop();

    stdout_of(&["token", "revoke", "maria", "--data", data_arg]);
    let server = TestServer::start_in(data.path(), ServerOptions::default());
    let refused = server
        .client
        .get(server.url("/v1/admin/experts"))
        .bearer_auth(&secret)
        .send()
        .unwrap();
    assert_eq!(refused.status(), 401);
}
