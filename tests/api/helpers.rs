//! Test servers on port 0 with temporary data directories, and small HTTP helpers.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::thread::JoinHandle;

use citypeers::app::{App, AppConfig};
use citypeers::http::Limits;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

pub const ADMIN_TOKEN: &str = "test-admin-token";

pub struct ServerOptions {
    pub demo_data: bool,
    pub limits: Limits,
    pub min_free_bytes: u64,
    /// Serve only once a rebuild that opening started is done.
    pub wait_until_indexed: bool,
    /// Where the records live, whatever the suite runs against (`None`: the suite's choice).
    pub store: Option<StoreChoice>,
}

/// A store a test asks for by name.
#[derive(Clone)]
pub enum StoreChoice {
    Embedded,
    Postgres(String),
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            demo_data: false,
            limits: Limits::new(1_000, 1_000),
            min_free_bytes: citypeers::store::DEFAULT_MIN_FREE_BYTES,
            wait_until_indexed: true,
            store: None,
        }
    }
}

/// A running citypeers server; stopped cleanly when dropped.
pub struct TestServer {
    pub base: String,
    pub client: Client,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(options: ServerOptions) -> TestServer {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().to_path_buf();
        let mut server = TestServer::start_in(&data_dir, options);
        server._temp = Some(temp);
        server
    }

    /// Starts a server on an existing data directory (kept when the server stops).
    pub fn start_in(data_dir: &Path, options: ServerOptions) -> TestServer {
        let store = match &options.store {
            None => postgres::database_for(data_dir),
            Some(StoreChoice::Embedded) => None,
            Some(StoreChoice::Postgres(url)) => Some(url.clone()),
        };
        let config = AppConfig {
            data_dir: data_dir.to_path_buf(),
            vocabulary_dir: None,
            load_demo_data: options.demo_data,
            admin_token: Some(ADMIN_TOKEN.to_string()),
            min_free_bytes: options.min_free_bytes,
            store,
        };
        let app = open_when_released(config);
        if options.wait_until_indexed {
            app.wait_until_indexed().expect("the index is rebuilt");
        }
        let (address_sender, address_receiver) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = options.limits;
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
                address_sender
                    .send(listener.local_addr().expect("address"))
                    .expect("send address");
                citypeers::http::serve(listener, app, limits, async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
            });
        });
        let address = address_receiver.recv().expect("server address");
        TestServer {
            base: format!("http://{address}"),
            client: Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .expect("client"),
            data_dir: data_dir.to_path_buf(),
            _temp: None,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .unwrap_or_else(|error| panic!("GET {path}: {error:?}"))
    }

    pub fn get_json(&self, path: &str) -> Value {
        let response = self.get(path);
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().expect("json body")
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .unwrap_or_else(|error| panic!("POST {path}: {error:?}"))
    }

    pub fn admin(&self, builder: RequestBuilder) -> RequestBuilder {
        builder.bearer_auth(ADMIN_TOKEN)
    }

    pub fn admin_get(&self, path: &str) -> Response {
        self.admin(self.client.get(self.url(path))).send().expect("request")
    }

    pub fn admin_post(&self, path: &str, body: &Value) -> Response {
        self.admin(self.client.post(self.url(path)))
            .json(body)
            .send()
            .expect("request")
    }

    /// Stops the server and waits until it has shut down cleanly.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if self._temp.is_some() {
            postgres::drop_database_of(&self.data_dir);
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Whether the suite runs against PostgreSQL (`CITYPEERS_TEST_POSTGRES` holds an address
/// whose user may create databases); each test server then gets a database of its own.
pub fn on_postgres() -> bool {
    postgres::admin_url().is_some()
}

/// For tests of the embedded store's files (snapshots, a full disk, the command line on a data
/// directory): true, with a note, when the suite runs against PostgreSQL instead.
pub fn embedded_store_only(test: &str) -> bool {
    if on_postgres() {
        eprintln!("{test}: about the embedded store's files; not run against PostgreSQL");
        return true;
    }
    false
}

pub mod postgres {
    //! A database per test server, made through the admin address and dropped with the server.

    use std::path::Path;

    const MARKER: &str = ".test-database";

    pub fn admin_url() -> Option<String> {
        std::env::var("CITYPEERS_TEST_POSTGRES")
            .ok()
            .filter(|url| !url.is_empty())
    }

    fn with_admin(statement: &str) {
        let url = admin_url().expect("CITYPEERS_TEST_POSTGRES");
        query_text(&url, statement);
    }

    /// The first column of the first row of `query` (a count, say) in the database at `url`.
    pub fn query_text(url: &str, query: &str) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(connection);
            let rows = client.simple_query(query).await.expect(query);
            rows.iter()
                .find_map(|message| match message {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                    _ => None,
                })
                .unwrap_or_default()
        })
    }

    /// The address of the database kept for this data directory, made on first use.
    pub fn database_for(data_dir: &Path) -> Option<String> {
        let admin = admin_url()?;
        let marker = data_dir.join(MARKER);
        let name = match std::fs::read_to_string(&marker) {
            Ok(name) => name,
            Err(_) => {
                let name = format!("cp_test_{:016x}", rand_suffix());
                with_admin(&format!("CREATE DATABASE {name}"));
                std::fs::create_dir_all(data_dir).expect("data dir");
                std::fs::write(&marker, &name).expect("database marker");
                name
            }
        };
        let (base, _) = admin.rsplit_once('/').expect("the admin address names a database");
        Some(format!("{base}/{name}"))
    }

    pub fn drop_database_of(data_dir: &Path) {
        if admin_url().is_none() {
            return;
        }
        if let Ok(name) = std::fs::read_to_string(data_dir.join(MARKER)) {
            with_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }

    fn rand_suffix() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos()),
        );
        hasher.finish()
    }
}

/// Opens the service; a server stopped a moment ago may still hold the directory while a
/// background task it had started (a retrain of the topic model) finishes, so a locked
/// directory is tried again for a few seconds, as a restarting process would find it.
fn open_when_released(config: AppConfig) -> App {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        match App::open(config.clone()) {
            Ok(app) => return app,
            Err(citypeers::app::OpenError::Store(citypeers::store::StoreError::Locked(_)))
                if std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(error) => panic!("the service opens: {error}"),
        }
    }
}

/// One server with the demo data, shared by the tests that only read.
pub fn demo() -> &'static TestServer {
    static DEMO: OnceLock<TestServer> = OnceLock::new();
    DEMO.get_or_init(|| {
        TestServer::start(ServerOptions {
            demo_data: true,
            ..ServerOptions::default()
        })
    })
}

/// An expert body with every required field.
pub fn expert_body(id: &str, name: &str, city: &str, country: &str) -> Value {
    serde_json::json!({
        "id": id,
        "name": name,
        "city": city,
        "country": country,
        "languages": ["en"],
        "topics": ["mobility"],
        "expertise": "Bus rapid transit planning and cycling networks.",
        "status": "published",
    })
}

/// Asserts the contract's error shape and returns the body.
pub fn assert_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type}"
    );
    let body: Value = response.json().expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "{body}"
    );
    body
}

/// Every string value in a JSON document, recursively (for checking leaks).
pub fn all_keys(value: &Value, keys: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                keys.push(key.clone());
                all_keys(child, keys);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| all_keys(item, keys)),
        _ => {}
    }
}

pub fn ids_of_hits(body: &Value, record: &str) -> Vec<String> {
    body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit[record]["id"].as_str().expect("id").to_string())
        .collect()
}
