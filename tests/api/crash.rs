//! The crash campaign: the real binary is killed with SIGKILL at random moments while clients
//! create, patch (If-Match), import, merge and erase; each restart on the same directory must
//! show every acknowledged write, an index that agrees with the store, and no erased text
//! anywhere on disk. `CITYPEERS_CRASH_ROUNDS` sets the number of rounds (default 40) and
//! `CITYPEERS_CRASH_SEED` the seed; see tests/README.md for the long run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use reqwest::blocking::Client;
use serde_json::{Value, json};

pub(crate) const TOKEN: &str = "crash-campaign-token";

/// What the service acknowledged, and so must survive any crash.
#[derive(Default)]
struct Ledger {
    created: BTreeSet<String>,
    /// id → (version, city) of the last acknowledged patch.
    patched: BTreeMap<String, (u64, String)>,
    imported: BTreeSet<String>,
    /// merged id → kept id.
    merged: BTreeMap<String, String>,
    /// erased id → the word only its text contained.
    erased: BTreeMap<String, String>,
}

pub(crate) struct Node {
    child: Child,
    pub(crate) base: String,
    pub(crate) client: Client,
}

impl Node {
    fn start(data: &Path) -> (Node, Duration) {
        Node::start_on(data, None)
    }

    /// Starts the binary with its index (and embedded store) in `data`, or its records in the
    /// PostgreSQL database at `store`; returns once it is ready.
    pub(crate) fn start_on(data: &Path, store: Option<&str>) -> (Node, Duration) {
        let started = Instant::now();
        let mut command = Command::new(env!("CARGO_BIN_EXE_citypeers"));
        if let Some(url) = store {
            command.env("CITYPEERS_STORE", url);
        }
        let mut child = command
            .args([
                "serve",
                "--empty",
                "--addr",
                "127.0.0.1:0",
                "--min-free-mb",
                "0",
                "--data",
            ])
            .arg(data)
            .env("CITYPEERS_ADMIN_TOKEN", TOKEN)
            .env("CITYPEERS_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut first_line = String::new();
        BufReader::new(stdout).read_line(&mut first_line).expect("a line");
        let address = first_line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first_line:?}"))
            .to_string();
        let node = Node {
            child,
            base: address,
            client: Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while node.get("/readyz").is_none_or(|(status, _)| status != 200) {
            assert!(Instant::now() < deadline, "not ready after a restart");
            std::thread::sleep(Duration::from_millis(10));
        }
        (node, started.elapsed())
    }

    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn get(&self, path: &str) -> Option<(u16, Value)> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().unwrap_or(Value::Null)))
    }

    pub(crate) fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Option<u16> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        request.send().ok().map(|response| response.status().as_u16())
    }
}

pub(crate) fn expert(id: &str, expertise: &str) -> Value {
    json!({"id": id, "name": "Crash Test", "city": "Kigali", "country": "RW", "languages": ["en"],
           "topics": ["waste"], "expertise": expertise, "status": "published"})
}

/// One client's loop of one kind of write until the node is killed.
fn work(kind: usize, round: usize, node: &Node, ledger: &Mutex<Ledger>, stop: &AtomicBool) {
    let mut number = 0;
    while !stop.load(Ordering::SeqCst) {
        number += 1;
        let id = format!("r{round}-k{kind}-n{number}");
        let created = |id: &str, text: &str| {
            node.send(reqwest::Method::POST, "/v1/admin/experts", Some(expert(id, text)), None) == Some(201)
        };
        match kind {
            0 => {
                if created(&id, "Composting of market waste.") {
                    ledger.lock().unwrap().created.insert(id);
                }
            }
            1 => {
                let target = ledger.lock().unwrap().created.iter().next_back().cloned();
                let Some(target) = target else { continue };
                let Some((200, current)) = node.get(&format!("/v1/admin/experts/{target}")) else {
                    continue;
                };
                let version = current["version"].as_u64().unwrap_or(0);
                let city = format!("City {round}-{number}");
                let path = format!("/v1/admin/experts/{target}");
                let patch = json!({"city": city});
                if node.send(
                    reqwest::Method::PATCH,
                    &path,
                    Some(patch),
                    Some(&format!("\"{version}\"")),
                ) == Some(200)
                {
                    ledger.lock().unwrap().patched.insert(target, (version + 1, city));
                }
            }
            2 => {
                let ids: Vec<String> = (0..20).map(|row| format!("{id}-row{row}")).collect();
                let body: Vec<Value> = ids.iter().map(|row| expert(row, "Bus rapid transit.")).collect();
                if node.send(
                    reqwest::Method::POST,
                    "/v1/admin/import?kind=experts",
                    Some(Value::Array(body)),
                    None,
                ) == Some(200)
                {
                    ledger.lock().unwrap().imported.extend(ids);
                }
            }
            3 => {
                let (kept, merged) = (format!("{id}-kept"), format!("{id}-merged"));
                if !(created(&kept, "Kept record.") && created(&merged, "Merged record.")) {
                    continue;
                }
                let path = format!("/v1/admin/experts/{merged}/merge");
                if node.send(reqwest::Method::POST, &path, Some(json!({"into": kept})), None) == Some(200) {
                    ledger.lock().unwrap().merged.insert(merged, kept);
                }
            }
            _ => {
                let marker = format!("zqxmarker{round}x{number}");
                if !created(&id, &format!("Advises on the {marker} method.")) {
                    continue;
                }
                let path = format!("/v1/admin/experts/{id}?erase=true");
                if node.send(reqwest::Method::DELETE, &path, None, Some("*")) == Some(204) {
                    ledger.lock().unwrap().erased.insert(id, marker);
                }
            }
        }
    }
}

/// Every record the store holds (from the export), by id.
pub(crate) fn stored(node: &Node) -> BTreeMap<String, Value> {
    let export = node
        .client
        .get(format!("{}/v1/admin/export?kind=experts", node.base))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .text()
        .unwrap();
    export
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).unwrap();
            (record["id"].as_str().unwrap().to_string(), record)
        })
        .collect()
}

/// Every id the index holds, over all statuses.
pub(crate) fn indexed(node: &Node) -> BTreeSet<String> {
    let mut indexed = BTreeSet::new();
    for status in ["draft", "published", "archived"] {
        let mut offset = 0;
        loop {
            let path = format!("/v1/admin/experts?status={status}&limit=100&offset={offset}");
            let (_, page) = node.get(&path).unwrap();
            let hits = page["hits"].as_array().unwrap();
            indexed.extend(hits.iter().map(|hit| hit["expert"]["id"].as_str().unwrap().to_string()));
            offset += 100;
            if hits.len() < 100 || offset > 10_000 {
                break;
            }
        }
    }
    indexed
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The most records a listing reaches (the API's largest offset plus a page).
const LISTABLE: usize = 10_100;

/// The index holds exactly the stored records. A listing reaches the first 10,100 of them: a
/// longer run (more records) compares the index's document count with the store's and checks
/// that every listed record is stored.
fn assert_index_holds(node: &Node, stored_ids: &BTreeSet<String>) {
    let listed = indexed(node);
    if stored_ids.len() <= LISTABLE {
        assert_eq!(&listed, stored_ids, "the index and the store disagree");
        return;
    }
    let (_, ready) = node.get("/readyz").expect("readiness");
    assert_eq!(
        ready["indexed_experts"].as_u64(),
        Some(stored_ids.len() as u64),
        "the index and the store hold different numbers of records"
    );
    let unknown: Vec<&String> = listed.difference(stored_ids).collect();
    assert!(
        unknown.is_empty(),
        "the index lists records the store does not hold: {unknown:?}"
    );
}

/// Files under `dir` that contain one of the markers, with the marker.
pub(crate) fn leaked(dir: &Path, markers: &[&String]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for file in walk(dir) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for marker in markers {
            if memchr::memmem::find(&bytes, marker.as_bytes()).is_some() {
                found.push((file.display().to_string(), marker.to_string()));
            }
        }
    }
    found
}

fn verify(node: &Node, ledger: &Ledger, data: &Path) {
    let stored = stored(node);
    for id in ledger.created.iter().chain(&ledger.imported) {
        assert!(stored.contains_key(id), "acknowledged {id} is lost");
    }
    for (id, (version, city)) in &ledger.patched {
        let record = &stored[id];
        let current = record["version"].as_u64().unwrap();
        assert!(current >= *version, "{id}: version {current} < acknowledged {version}");
        if current == *version {
            assert_eq!(record["city"], city.as_str(), "{id}: acknowledged patch lost");
        }
    }
    for (merged, kept) in &ledger.merged {
        assert_eq!(stored[merged]["status"], "archived", "{merged} merged into {kept}");
    }
    let stored_ids: BTreeSet<String> = stored.keys().cloned().collect();
    assert_index_holds(node, &stored_ids);
    for id in ledger.erased.keys() {
        assert!(!stored.contains_key(id), "{id} was erased");
    }
    let markers: Vec<&String> = ledger.erased.values().collect();
    let leaks = leaked(data, &markers);
    assert!(leaks.is_empty(), "erased text is still on disk: {leaks:?}");
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    if crate::helpers::embedded_store_only("sigkill_at_random_moments_loses_nothing_acknowledged") {
        return;
    }
    let rounds: usize = std::env::var("CITYPEERS_CRASH_ROUNDS")
        .ok()
        .and_then(|raw| raw.parse().ok())
        .unwrap_or(40);
    let seed: u64 = std::env::var("CITYPEERS_CRASH_SEED")
        .ok()
        .and_then(|raw| raw.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("crash campaign: {rounds} rounds, seed {seed}");
    let mut random = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut restarts = Vec::new();
    let campaign = Instant::now();
    for round in 0..rounds {
        let (node, restart) = Node::start(dir.path());
        restarts.push(restart);
        let verifying = Instant::now();
        verify(&node, &ledger.lock().unwrap(), dir.path());
        eprintln!(
            "round {round}: ready after {restart:?}, verified in {:?}",
            verifying.elapsed()
        );
        let node = Arc::new(node);
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..5)
            .map(|kind| {
                let (node, ledger, stop) = (node.clone(), ledger.clone(), stop.clone());
                std::thread::spawn(move || work(kind, round, &node, &ledger, &stop))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(random.random_range(50..1_500)));
        // SIGKILL while the writes are in flight; they stop at the closed connection.
        let _ = std::process::Command::new("kill")
            .args(["-9", &node.child.id().to_string()])
            .status();
        stop.store(true, Ordering::SeqCst);
        for worker in workers {
            let _ = worker.join();
        }
        Arc::into_inner(node).expect("workers are done").kill();
    }
    let (node, restart) = Node::start(dir.path());
    restarts.push(restart);
    verify(&node, &ledger.lock().unwrap(), dir.path());
    node.kill();
    restarts.sort();
    let ledger = ledger.lock().unwrap();
    eprintln!(
        "crash campaign: {rounds} kills in {:.0} s; acknowledged {} creates, {} patches, {} imported, {} merges, {} erasures; none lost; restart to ready: median {:?}, max {:?}",
        campaign.elapsed().as_secs_f64(),
        ledger.created.len(),
        ledger.patched.len(),
        ledger.imported.len(),
        ledger.merged.len(),
        ledger.erased.len(),
        restarts[restarts.len() / 2],
        restarts[restarts.len() - 1],
    );
}
