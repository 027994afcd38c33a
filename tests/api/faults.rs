//! Faults of the machine: a full disk refuses writes with 507 and loses nothing, reads go on,
//! and writes work again once space is freed, without a restart; a data directory that cannot
//! be used stops the start with one clear line. The disk is a small tmpfs the test mounts
//! (root only: CI runs as root; elsewhere the test says it was skipped, and fails under CI).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{ServerOptions, TestServer, assert_error, expert_body};

/// A tmpfs mounted for the test; unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32, read_only: bool) -> Option<SmallDisk> {
        let parent = tempfile::tempdir().ok()?;
        let path = parent.path().join("disk");
        std::fs::create_dir(&path).ok()?;
        let options = format!("size={megabytes}m{}", if read_only { ",ro" } else { "" });
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &options, "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|status| status.success());
        if !mounted {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must be able to mount a tmpfs (run as root)"
            );
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        Some(SmallDisk { path, _parent: parent })
    }

    /// Fills the disk until about `leave` bytes remain.
    fn fill(&self, leave: u64) -> PathBuf {
        let filler = self.path.join("filler");
        let available = available_bytes(&self.path);
        let size = available.saturating_sub(leave);
        let file = std::fs::File::create(&filler).unwrap();
        file.set_len(0).unwrap();
        let block = vec![7u8; 1 << 20];
        let mut written = 0u64;
        let mut writer = std::io::BufWriter::new(file);
        while written + block.len() as u64 <= size {
            std::io::Write::write_all(&mut writer, &block).unwrap();
            written += block.len() as u64;
        }
        std::io::Write::flush(&mut writer).unwrap();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn available_bytes(path: &Path) -> u64 {
    let output = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .unwrap()
}

#[test]
fn a_full_disk_refuses_writes_with_507_and_they_work_again_once_space_is_freed() {
    if crate::helpers::embedded_store_only(
        "a_full_disk_refuses_writes_with_507_and_they_work_again_once_space_is_freed",
    ) {
        return;
    }
    let Some(disk) = SmallDisk::mount(64, false) else {
        return;
    };
    let data = disk.path.join("data");
    let server = TestServer::start_in(
        &data,
        ServerOptions {
            min_free_bytes: 8 << 20,
            ..ServerOptions::default()
        },
    );
    for number in 0..10 {
        let id = format!("before-{number}");
        assert_eq!(
            server
                .admin_post("/v1/admin/experts", &expert_body(&id, "Rosa Quispe", "Cusco", "PE"))
                .status(),
            201
        );
    }
    let filler = disk.fill(4 << 20);

    let refused = server.admin_post(
        "/v1/admin/experts",
        &expert_body("during", "Rosa Quispe", "Cusco", "PE"),
    );
    let body = assert_error(refused, 507, "insufficient_storage");
    assert!(body["error"]["message"].as_str().unwrap().contains("space"));
    let patched = server
        .admin(server.client.patch(server.url("/v1/admin/experts/before-0")))
        .header("if-match", "*")
        .json(&json!({"city": "Lima"}))
        .send()
        .unwrap();
    assert_error(patched, 507, "insufficient_storage");
    let imported = server
        .admin(server.client.post(server.url("/v1/admin/import?kind=experts")))
        .header("content-type", "application/x-ndjson")
        .body(expert_body("imported-during", "Ana Lima", "Recife", "BR").to_string())
        .send()
        .unwrap();
    assert_error(imported, 507, "insufficient_storage");
    // Reads keep working.
    assert_eq!(server.get_json("/v1/experts?q=Cusco")["total"], 10);
    assert_eq!(server.get("/v1/experts/before-3").status(), 200);
    assert_eq!(server.get("/readyz").status(), 200);

    std::fs::remove_file(filler).unwrap();
    let created = server.admin_post("/v1/admin/experts", &expert_body("after", "Rosa Quispe", "Cusco", "PE"));
    assert_eq!(created.status(), 201, "writes work again without a restart");
    let listed: Value = server.admin_get("/v1/admin/experts?q=Cusco&limit=50").json().unwrap();
    assert_eq!(listed["total"], 11, "nothing acknowledged was lost");
    assert_eq!(
        server.admin_get("/v1/admin/experts/during").status(),
        404,
        "a refused write left nothing"
    );
}

fn start_error(data: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_citypeers"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

#[test]
fn a_data_directory_that_cannot_be_used_stops_the_start_with_one_clear_line() {
    if crate::helpers::embedded_store_only("a_data_directory_that_cannot_be_used_stops_the_start_with_one_clear_line") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let not_a_folder = scratch.path().join("a-file");
    std::fs::write(&not_a_folder, b"hello").unwrap();
    let (code, stderr) = start_error(&not_a_folder);
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: the data directory") && stderr.contains("not a folder"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));

    if let Some(disk) = SmallDisk::mount(8, true) {
        let (code, stderr) = start_error(&disk.path);
        assert_ne!(code, 0);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("cannot be written"), "{stderr}");
    }
}

#[test]
fn an_index_that_runs_out_of_space_catches_up_by_itself_once_there_is_room() {
    if crate::helpers::embedded_store_only("an_index_that_runs_out_of_space_catches_up_by_itself_once_there_is_room") {
        return;
    }
    let Some(disk) = SmallDisk::mount(64, false) else {
        return;
    };
    let data = disk.path.join("data");
    TestServer::start_in(&data, ServerOptions::default()).stop();
    // The index on its own small disk: the store has room, the index does not.
    let index_disk = data.join("index");
    std::fs::remove_dir_all(&index_disk).unwrap();
    std::fs::create_dir(&index_disk).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&index_disk)
        .status()
        .unwrap();
    assert!(mounted.success());
    let server = TestServer::start_in(
        &data,
        ServerOptions {
            min_free_bytes: 0,
            ..ServerOptions::default()
        },
    );
    let mut acknowledged = 0;
    for number in 0..200 {
        let mut body = expert_body(&format!("expert-{number}"), "Rosa Quispe", "Cusco", "PE");
        // Words no other profile has: every profile adds its own terms to the index.
        let words: Vec<String> = (0..300).map(|word| format!("w{number}x{word}q")).collect();
        body["expertise"] = Value::from(format!("Waste sorting: {}.", words.join(" ")));
        if server.admin_post("/v1/admin/experts", &body).status() == 201 {
            acknowledged += 1;
        }
        if server.get("/readyz").status() == 503 {
            break;
        }
    }
    let behind = server.get("/readyz");
    assert_eq!(behind.status(), 503, "the index cannot keep up on a full disk");
    let reason: Value = behind.json().unwrap();
    assert!(
        reason["error"]["message"].as_str().unwrap().contains("behind"),
        "{reason}"
    );
    assert_eq!(server.get("/healthz").status(), 200);

    let grown = Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(&index_disk)
        .status()
        .unwrap();
    assert!(grown.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.get("/readyz").status() != 200 {
        assert!(std::time::Instant::now() < deadline, "the index never caught up");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let export = server.admin_get("/v1/admin/export?kind=experts").text().unwrap();
    let stored: BTreeSet<String> = export
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut indexed = BTreeSet::new();
    for offset in [0, 100, 200] {
        let page: Value = server
            .admin_get(&format!("/v1/admin/experts?limit=100&offset={offset}"))
            .json()
            .unwrap();
        for hit in page["hits"].as_array().unwrap() {
            indexed.insert(hit["expert"]["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(indexed, stored, "the index caught up with every acknowledged write");
    assert_eq!(server.get_json("/v1/experts?q=Cusco&limit=0")["total"], acknowledged);
    drop(server);
    let _ = Command::new("umount").arg("-l").arg(&index_disk).status();
}
