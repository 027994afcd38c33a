//! Online backup and restore: snapshots taken while the server serves and accepts writes,
//! restored into a new directory whose export equals the original's at the snapshot, and
//! erasures made after a snapshot applied again when it is restored.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::helpers::{ServerOptions, TestServer, expert_body};

const TOKEN: &str = "backup-test-token";

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_citypeers")
}

fn run(arguments: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(binary()).args(arguments).output().unwrap();
    assert!(
        output.status.success(),
        "{arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The real binary serving `data`, killed when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Served {
    fn start(data: &Path) -> Served {
        let mut child = Command::new(binary())
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("CITYPEERS_ADMIN_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap()
            .to_string();
        Served { child, base }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn snapshots_taken_while_writes_go_on_restore_to_a_consistent_state() {
    if crate::helpers::embedded_store_only("snapshots_taken_while_writes_go_on_restore_to_a_consistent_state") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let served = Served::start(&data);
    let client = Client::new();
    let acknowledged = Arc::new(Mutex::new(Vec::<usize>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acknowledged, stop, base, client) =
            (acknowledged.clone(), stop.clone(), served.base.clone(), client.clone());
        std::thread::spawn(move || {
            let mut number = 0;
            while !stop.load(Ordering::SeqCst) {
                let body = expert_body(&format!("during-{number}"), "Lea Brandt", "Zzyzxburg", "DE");
                let response = client
                    .post(format!("{base}/v1/admin/experts"))
                    .bearer_auth(TOKEN)
                    .json(&body)
                    .send()
                    .unwrap();
                assert_eq!(response.status(), 201, "writes go on during a backup");
                acknowledged.lock().unwrap().push(number);
                number += 1;
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before_cli = acknowledged.lock().unwrap().len();
    // Through the control socket of the directory the server holds…
    let through_socket = work.path().join("socket.snapshot");
    let printed = run(&[
        "backup".as_ref(),
        through_socket.as_os_str(),
        "--data".as_ref(),
        data.as_os_str(),
    ]);
    assert!(printed.contains("wrote"), "{printed}");
    // …and as a download from the API.
    let download = client
        .post(format!("{}/v1/admin/backup", served.base))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(download.status(), 200);
    assert!(download.headers().contains_key("x-citypeers-snapshot-seq"));
    let downloaded = work.path().join("downloaded.snapshot");
    std::fs::write(&downloaded, download.bytes().unwrap()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();

    for (name, snapshot) in [("socket", &through_socket), ("download", &downloaded)] {
        let restored_dir = work.path().join(format!("restored-{name}"));
        let printed = run(&[
            "restore".as_ref(),
            snapshot.as_os_str(),
            "--data".as_ref(),
            restored_dir.as_os_str(),
        ]);
        assert!(printed.contains("restored"), "{printed}");
        let restored = TestServer::start_in(&restored_dir, ServerOptions::default());
        let lines = restored.admin_get("/v1/admin/export?kind=experts").text().unwrap();
        let mut numbers: Vec<usize> = lines
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|record| record["id"].as_str()?.strip_prefix("during-")?.parse().ok())
            .collect();
        numbers.sort();
        // One moment of a sequential writer: every record up to some point, none after a gap.
        assert!(
            numbers.iter().enumerate().all(|(position, number)| position == *number),
            "{name}: {numbers:?}"
        );
        if name == "socket" {
            assert!(
                numbers.len() >= before_cli,
                "{name}: the snapshot is older than its request"
            );
        }
        let listed: Value = restored
            .admin_get("/v1/admin/experts?q=Zzyzxburg&limit=0")
            .json()
            .unwrap();
        assert_eq!(
            listed["total"].as_u64().unwrap() as usize,
            numbers.len(),
            "{name}: the index was rebuilt"
        );
    }
}

#[test]
fn a_restored_snapshot_exports_exactly_what_the_original_did() {
    if crate::helpers::embedded_store_only("a_restored_snapshot_exports_exactly_what_the_original_did") {
        return;
    }
    let original = TestServer::start(ServerOptions {
        demo_data: true,
        ..ServerOptions::default()
    });
    let contact =
        json!({"expert_id": "amadou-ndiaye", "name": "Lina", "email": "lina@example.org", "message": "Hello"});
    assert_eq!(original.post_json("/v1/contact-requests", &contact).status(), 202);
    let experts = original.admin_get("/v1/admin/export?kind=experts").text().unwrap();
    let cases = original.admin_get("/v1/admin/export?kind=cases").text().unwrap();
    let snapshot = original.admin_post("/v1/admin/backup", &Value::Null).bytes().unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("quiet.snapshot");
    std::fs::write(&file, &snapshot).unwrap();
    let restored_dir = work.path().join("restored");
    run(&[
        "restore".as_ref(),
        file.as_os_str(),
        "--data".as_ref(),
        restored_dir.as_os_str(),
    ]);
    let restored = TestServer::start_in(&restored_dir, ServerOptions::default());
    assert_eq!(
        restored.admin_get("/v1/admin/export?kind=experts").text().unwrap(),
        experts
    );
    assert_eq!(restored.admin_get("/v1/admin/export?kind=cases").text().unwrap(), cases);
    let requests: Value = restored.admin_get("/v1/admin/contact-requests").json().unwrap();
    assert_eq!(
        requests["requests"].as_array().unwrap().len(),
        1,
        "contact requests come back too"
    );
    let audit: Value = restored
        .admin_get("/v1/admin/audit?entity=experts/amadou-ndiaye")
        .json()
        .unwrap();
    assert!(!audit["entries"].as_array().unwrap().is_empty(), "and the audit trail");

    // A damaged snapshot is refused and leaves nothing behind.
    let mut damaged = snapshot.to_vec();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x55;
    let damaged_file = work.path().join("damaged.snapshot");
    std::fs::write(&damaged_file, damaged).unwrap();
    let target = work.path().join("from-damaged");
    let output = Command::new(binary())
        .args([
            "restore".as_ref(),
            damaged_file.as_os_str(),
            "--data".as_ref(),
            target.as_os_str(),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("checksum"));
    assert!(!target.join("store").exists());
}

fn erase(server: &TestServer, id: &str) {
    let response = server
        .admin(
            server
                .client
                .delete(server.url(&format!("/v1/admin/experts/{id}?erase=true"))),
        )
        .header("if-match", "*")
        .send()
        .unwrap();
    assert_eq!(response.status(), 204);
}

fn snapshot_to(server: &TestServer, path: &PathBuf) {
    let bytes = server.admin_post("/v1/admin/backup", &Value::Null).bytes().unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn files_contain(dir: &Path, needle: &str) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
        } else if memchr::memmem::find(&std::fs::read(&path).unwrap_or_default(), needle.as_bytes()).is_some() {
            return true;
        }
    }
    false
}

#[test]
fn a_restore_of_an_older_snapshot_erases_again_who_was_erased_since() {
    if crate::helpers::embedded_store_only("a_restore_of_an_older_snapshot_erases_again_who_was_erased_since") {
        return;
    }
    let server = TestServer::start(ServerOptions::default());
    let mut person = expert_body("to-be-forgotten", "Ilse Qwxvoltrazine", "Kiel", "DE");
    person["expertise"] = Value::from("Harbour flood gates and the Qwxvoltrazine method.");
    assert_eq!(server.admin_post("/v1/admin/experts", &person).status(), 201);
    assert_eq!(
        server
            .admin_post("/v1/admin/experts", &expert_body("stays", "Lea Brandt", "Kiel", "DE"))
            .status(),
        201
    );
    let backups = tempfile::tempdir().unwrap();
    let older = backups.path().join("1-older.snapshot");
    snapshot_to(&server, &older);
    erase(&server, "to-be-forgotten");
    let newer = backups.path().join("2-newer.snapshot");
    snapshot_to(&server, &newer);

    // The newer snapshot beside the older one carries the erasure list: applied at restore.
    let restored_dir = backups.path().join("restored");
    let printed = run(&[
        "restore".as_ref(),
        older.as_os_str(),
        "--data".as_ref(),
        restored_dir.as_os_str(),
    ]);
    assert!(printed.contains("erased again 1 record"), "{printed}");
    let restored = TestServer::start_in(&restored_dir, ServerOptions::default());
    assert_eq!(restored.admin_get("/v1/admin/experts/to-be-forgotten").status(), 404);
    assert_eq!(restored.admin_get("/v1/admin/experts/stays").status(), 200);
    assert_eq!(restored.get_json("/v1/experts?q=Qwxvoltrazine")["total"], 0);
    drop(restored);
    assert!(
        !files_contain(&restored_dir, "Qwxvoltrazine"),
        "the erased text is not on disk"
    );

    // An older snapshot alone does not know the erasure: given the list, it erases again too.
    let alone = tempfile::tempdir().unwrap();
    let copied = alone.path().join("older.snapshot");
    std::fs::copy(&older, &copied).unwrap();
    let without_list = alone.path().join("without-list");
    let printed = run(&[
        "restore".as_ref(),
        copied.as_os_str(),
        "--data".as_ref(),
        without_list.as_os_str(),
    ]);
    assert!(printed.contains("erased again 0 record"), "{printed}");
    let with_list = alone.path().join("with-list");
    std::fs::remove_file(&copied).ok();
    std::fs::copy(&older, &copied).unwrap();
    let printed = run(&[
        "restore".as_ref(),
        copied.as_os_str(),
        "--erasures".as_ref(),
        newer.as_os_str(),
        "--data".as_ref(),
        with_list.as_os_str(),
    ]);
    assert!(printed.contains("erased again 1 record"), "{printed}");
}
