//! Three nodes on one PostgreSQL database (only when the suite runs against PostgreSQL): a write
//! on one is searchable on the others within 2 s, `If-Match` holds across nodes, a node killed
//! with SIGKILL during an import leaves the others serving and writable and catches up when it
//! comes back, every index agrees with the store, and an erasure on one node is gone from every
//! node and from their files.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::crash::{Node, expert, indexed, leaked, stored};

/// How long a change may take to reach the other nodes.
const CONVERGENCE: Duration = Duration::from_secs(2);

fn search_ids(node: &Node, word: &str) -> BTreeSet<String> {
    let Some((200, body)) = node.get(&format!("/v1/admin/experts?q={word}&limit=50")) else {
        return BTreeSet::new();
    };
    body["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .filter_map(|hit| hit["expert"]["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `check` holds on `node`; panics after the convergence bound.
fn converges(node: &Node, what: &str, check: impl Fn(&Node) -> bool) -> Duration {
    let started = Instant::now();
    while !check(node) {
        assert!(
            started.elapsed() < CONVERGENCE,
            "{what} not seen on {} within {CONVERGENCE:?}",
            node.base
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

fn create(node: &Node, id: &str, expertise: &str) {
    let status = node.send(Method::POST, "/v1/admin/experts", Some(expert(id, expertise)), None);
    assert_eq!(status, Some(201), "create {id} on {}", node.base);
}

fn version_of(node: &Node, id: &str) -> u64 {
    let (status, body) = node.get(&format!("/v1/admin/experts/{id}")).expect("an answer");
    assert_eq!(status, 200, "{id} on {}", node.base);
    body["version"].as_u64().expect("a version")
}

fn patch_city(node: &Node, id: &str, version: u64, city: &str) -> Option<u16> {
    node.send(
        Method::PATCH,
        &format!("/v1/admin/experts/{id}"),
        Some(json!({"city": city})),
        Some(&format!("\"{version}\"")),
    )
}

/// Sends imports to `node` until it dies; returns how many were acknowledged.
fn import_until_killed(node_base: String) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let mut acknowledged = 0;
        for batch in 0..200 {
            let body: Vec<Value> = (0..50)
                .map(|row| expert(&format!("bulk-{batch}-{row}"), "Bus rapid transit corridors."))
                .collect();
            let sent = client
                .post(format!("{node_base}/v1/admin/import?kind=experts"))
                .bearer_auth(crate::crash::TOKEN)
                .json(&body)
                .send();
            match sent {
                Ok(response) if response.status() == 200 => acknowledged += 50,
                _ => break,
            }
        }
        acknowledged
    })
}

/// The database's files (when this test may read them: the server runs on this machine and
/// the test as root) do not hold `marker` in clear after a checkpoint.
fn assert_database_files_lack(url: &str, marker: &str) {
    let data_directory = crate::helpers::postgres::query_text(url, "SHOW data_directory");
    crate::helpers::postgres::query_text(url, "CHECKPOINT");
    let path = Path::new(&data_directory);
    if std::fs::read_dir(path).is_err() {
        eprintln!("cannot read {data_directory}; the database files are not checked");
        return;
    }
    let marker = marker.to_string();
    let leaks = leaked(path, &[&marker]);
    assert!(leaks.is_empty(), "erased text in the database files: {leaks:?}");
}

/// Sleeps past the next minute boundary when it is close (failed logins count per minute).
fn wait_for_a_fresh_minute() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let into_minute = now % 60;
    if into_minute > 45 {
        std::thread::sleep(Duration::from_secs(61 - into_minute));
    }
}

fn assert_index_matches_store(node: &Node) {
    let stored: BTreeSet<String> = stored(node).into_keys().collect();
    assert_eq!(indexed(node), stored, "index and store disagree on {}", node.base);
}

#[test]
fn three_nodes_on_one_database_share_writes_versions_crashes_and_erasures() {
    if !crate::helpers::on_postgres() {
        eprintln!("three nodes need PostgreSQL: run tests/postgres/run.sh");
        return;
    }
    let database_dir = tempfile::tempdir().expect("temp dir");
    let url = crate::helpers::postgres::database_for(database_dir.path()).expect("a database");
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("temp dir")).collect();
    let start = |dir: &Path| Node::start_on(dir, Some(&url)).0;
    let a = start(dirs[0].path());
    let b = start(dirs[1].path());
    let c = start(dirs[2].path());

    // A write on A is searchable on B and C.
    create(
        &a,
        "nodes-amara",
        "Rainwater harvesting in informal settlements, quokkaword.",
    );
    for node in [&b, &c] {
        let took = converges(node, "a write on A", |node| {
            search_ids(node, "quokkaword").contains("nodes-amara")
        });
        eprintln!("a write on A was searchable on {} after {took:?}", node.base);
    }

    // A stale If-Match on B gets 412: A changed the record since B's reader saw it.
    let seen_on_b = version_of(&b, "nodes-amara");
    assert_eq!(patch_city(&a, "nodes-amara", seen_on_b, "Kisumu"), Some(200));
    assert_eq!(
        version_of(&b, "nodes-amara"),
        seen_on_b + 1,
        "B reads the version A wrote"
    );
    assert_eq!(patch_city(&b, "nodes-amara", seen_on_b, "Kampala"), Some(412));

    // Snapshots are the embedded store's; PostgreSQL is backed up with its own tools.
    assert_eq!(a.send(Method::POST, "/v1/admin/backup", None, None), Some(409));

    // Failed logins count for the cluster: the limit (10 a minute) holds across nodes.
    wait_for_a_fresh_minute();
    let bad_login = |node: &Node| {
        node.client
            .get(format!("{}/v1/admin/experts", node.base))
            .bearer_auth("not-a-token")
            .send()
            .map(|response| response.status().as_u16())
            .ok()
    };
    for node in [&a, &a, &a, &a, &b, &b, &b, &c, &c, &c] {
        assert_eq!(bad_login(node), Some(401));
    }
    assert_eq!(
        bad_login(&b),
        Some(429),
        "the eleventh failed login in a minute, on any node"
    );

    // A is killed during an import: B and C keep serving and accepting writes.
    let importing = import_until_killed(a.base.clone());
    std::thread::sleep(Duration::from_millis(400));
    a.kill();
    let imported_before_kill = importing.join().expect("the import thread");
    create(&b, "nodes-bongani", "Municipal bonds for water utilities, wombatword.");
    converges(&c, "a write on B while A is down", |node| {
        search_ids(node, "wombatword").contains("nodes-bongani")
    });
    assert_eq!(c.get("/readyz").map(|(status, _)| status), Some(200));

    // A comes back and catches up with what happened while it was down.
    let a = start(dirs[0].path());
    converges(&a, "B's write after A's restart", |node| {
        search_ids(node, "wombatword").contains("nodes-bongani")
    });
    let stored_on_a = stored(&a);
    assert!(
        stored_on_a.keys().filter(|id| id.starts_with("bulk-")).count() >= imported_before_kill,
        "acknowledged imported records are missing"
    );
    assert_eq!(stored_on_a["nodes-amara"]["city"], "Kisumu");

    // An erasure on C is gone from every node and from their files.
    create(&c, "nodes-erased", "Advises on the zqxnodemarker method.");
    for node in [&a, &b] {
        converges(node, "the record to erase", |node| {
            search_ids(node, "zqxnodemarker").contains("nodes-erased")
        });
    }
    let count = |query: &str| crate::helpers::postgres::query_text(&url, query);
    let keys_before: u64 = count("SELECT count(*) FROM cp_keys").parse().expect("a count");
    let erased = c.send(
        Method::DELETE,
        "/v1/admin/experts/nodes-erased?erase=true",
        None,
        Some("*"),
    );
    assert_eq!(erased, Some(204));
    // In the database: no row of the record is left, and the key its rows were sealed with is
    // deleted (and the key table vacuumed), so copies in old pages or backups stay unreadable.
    assert_eq!(count("SELECT count(*) FROM cp_records WHERE id = 'nodes-erased'"), "0");
    // Only the erasure note is left of the audit trail, in the clear and without personal data.
    assert_eq!(
        count("SELECT count(*) FROM cp_audit WHERE id = 'nodes-erased' AND slot <> 0"),
        "0"
    );
    let keys_after: u64 = count("SELECT count(*) FROM cp_keys").parse().expect("a count");
    assert_eq!(keys_after + 1, keys_before, "the erased record's key is destroyed");
    assert_database_files_lack(&url, "zqxnodemarker");
    for node in [&a, &b, &c] {
        converges(node, "the erasure", |node| {
            search_ids(node, "zqxnodemarker").is_empty()
                && node.get("/v1/admin/experts/nodes-erased").map(|(status, _)| status) == Some(404)
        });
    }

    // Every node's index agrees with the store once the last changes arrived.
    for node in [&a, &b, &c] {
        converges(node, "the last change", |node| {
            node.get("/readyz")
                .is_some_and(|(_, ready)| ready["store_seq"] == ready["index_seq"])
        });
        assert_index_matches_store(node);
    }
    a.kill();
    b.kill();
    c.kill();
    let marker = "zqxnodemarker".to_string();
    for dir in &dirs {
        let leaks = leaked(dir.path(), &[&marker]);
        assert!(leaks.is_empty(), "erased text is still in a node's files: {leaks:?}");
    }
    crate::helpers::postgres::drop_database_of(database_dir.path());
}

/// What a store shows through the API: both exports, the inbox, an audit trail, a redirect.
fn observable(server: &crate::helpers::TestServer, merged: &str, audited: &str) -> Vec<String> {
    let text = |path: &str| {
        let response = server.admin_get(path);
        format!("{path} {} {}", response.status(), response.text().expect("a body"))
    };
    vec![
        text("/v1/admin/export?kind=experts"),
        text("/v1/admin/export?kind=cases"),
        text("/v1/admin/contact-requests"),
        text(&format!("/v1/admin/audit?entity=experts/{audited}")),
        text(&format!("/v1/admin/experts/{merged}")),
        format!(
            "{:?}",
            server.get(&format!("/v1/experts/{merged}")).headers().get("location")
        ),
    ]
}

#[test]
fn migrate_copies_an_embedded_data_directory_and_both_export_the_same() {
    use crate::helpers::{ServerOptions, StoreChoice, TestServer, expert_body};
    if !crate::helpers::on_postgres() {
        eprintln!("migrate needs PostgreSQL: run tests/postgres/run.sh");
        return;
    }
    let source_dir = tempfile::tempdir().expect("temp dir");
    let source = TestServer::start_in(
        source_dir.path(),
        ServerOptions {
            demo_data: true,
            store: Some(StoreChoice::Embedded),
            ..ServerOptions::default()
        },
    );
    for (id, name) in [
        ("mig-kept", "Lina Haddad"),
        ("mig-merged", "Lina Hadad"),
        ("mig-erased", "Omar Said"),
    ] {
        let created = source.admin_post("/v1/admin/experts", &expert_body(id, name, "Amman", "JO"));
        assert_eq!(created.status(), 201);
    }
    let merged = source.admin_post("/v1/admin/experts/mig-merged/merge", &json!({"into": "mig-kept"}));
    assert_eq!(merged.status(), 200);
    let request = json!({"expert_id": "mig-kept", "name": "Sara Ruiz", "email": "sara@example.org", "message": "Could Lina share the bus plan?"});
    assert_eq!(source.post_json("/v1/contact-requests", &request).status(), 202);
    let erased = source
        .admin(
            source
                .client
                .delete(source.url("/v1/admin/experts/mig-erased?erase=true")),
        )
        .header("if-match", "*")
        .send()
        .expect("erase");
    assert_eq!(erased.status(), 204);
    let before = observable(&source, "mig-merged", "mig-kept");
    source.stop();
    // Background work of the stopped service may hold the directory for a moment.
    let create_token = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_citypeers"))
            .args(["token", "create", "portal-sync", "--data"])
            .arg(source_dir.path())
            .output()
            .expect("token create")
    };
    let mut token = create_token();
    for _ in 0..100 {
        if token.status.success() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        token = create_token();
    }
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));

    let target_dir = tempfile::tempdir().expect("temp dir");
    let url = crate::helpers::postgres::database_for(target_dir.path()).expect("a database");
    let migrated = std::process::Command::new(env!("CARGO_BIN_EXE_citypeers"))
        .args(["migrate", "--from"])
        .arg(source_dir.path())
        .args(["--to", &url])
        .output()
        .expect("migrate");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let said = String::from_utf8_lossy(&migrated.stdout);
    assert!(said.contains("and 1 tokens"), "{said}");

    let node_dir = tempfile::tempdir().expect("temp dir");
    let target = TestServer::start_in(
        node_dir.path(),
        ServerOptions {
            store: Some(StoreChoice::Postgres(url.clone())),
            ..ServerOptions::default()
        },
    );
    let after = observable(&target, "mig-merged", "mig-kept");
    for (before, after) in before.iter().zip(&after) {
        assert_eq!(before, after, "the copy differs");
    }
    assert_eq!(target.admin_get("/v1/admin/experts/mig-erased").status(), 404);
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_citypeers"))
        .args(["migrate", "--from"])
        .arg(source_dir.path())
        .args(["--to", &url])
        .output()
        .expect("migrate again");
    assert!(
        !again.status.success(),
        "a second copy into a database that holds data is refused"
    );
    target.stop();
    crate::helpers::postgres::drop_database_of(target_dir.path());
}
