//! `backup` and `restore`. A backup of a data directory that a running server holds goes
//! through the server's control socket (`DATA/control.sock`, readable only by the server's
//! user): the server writes the snapshot into it while it goes on serving.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use super::RemoteArgs;
use super::commands::{Settings, app_config};
use super::remote::Remote;
use crate::app::{App, read_erasures, restore, write_atomically};
use crate::store::{Store, StoreError};

const CONTROL_SOCKET: &str = "control.sock";
const BACKUP_COMMAND: &[u8] = b"backup\n";

fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CONTROL_SOCKET)
}

/// Removes the control socket when the server stops.
pub fn stop_listening_for_control(data_dir: &Path) {
    let _ = std::fs::remove_file(socket_path(data_dir));
}

/// Listens on the data directory's control socket for the life of the server.
pub fn listen_for_control(app: &App) -> Result<(), String> {
    let path = socket_path(app.data_dir());
    // A socket left by a killed server: the store lock proves no other server runs here.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|error| format!("{}: {error}", path.display()))?;
    let app = app.clone();
    std::thread::Builder::new()
        .name("control-socket".into())
        .spawn(move || {
            for connection in listener.incoming().flatten() {
                if let Err(error) = answer(&app, connection) {
                    tracing::warn!(%error, "a control-socket request failed");
                }
            }
        })
        .map_err(|error| error.to_string())?;
    Ok(())
}

fn answer(app: &App, connection: UnixStream) -> Result<(), String> {
    let mut command = Vec::new();
    BufReader::new(&connection)
        .take_while_line(&mut command)
        .map_err(|error| error.to_string())?;
    if command != BACKUP_COMMAND {
        return Err("unknown command".to_string());
    }
    let mut out = std::io::BufWriter::new(&connection);
    app.backup(&mut out).map_err(|error| error.to_string())?;
    out.flush().map_err(|error| error.to_string())
}

trait ReadLine {
    fn take_while_line(self, line: &mut Vec<u8>) -> std::io::Result<usize>;
}

impl<R: BufRead> ReadLine for R {
    /// Reads one line of at most 64 bytes (with its newline).
    fn take_while_line(self, line: &mut Vec<u8>) -> std::io::Result<usize> {
        std::io::Read::take(self, 64).read_until(b'\n', line)
    }
}

/// `citypeers backup OUT`: from a running server (`--url`), through the control socket of a
/// data directory a server holds, or from the data directory itself.
pub fn backup(out: &Path, settings: &Settings, remote: &RemoteArgs) -> Result<(), String> {
    let size = write_atomically(out, |file| {
        if let Some(url) = &remote.url {
            return Remote::new(url, remote.token.clone())
                .and_then(|remote| remote.backup(file))
                .map_err(crate::app::AppError::Unavailable);
        }
        let config = app_config(settings, false);
        if !config.data_dir.join("store").exists() {
            return Err(crate::app::AppError::NotFound(format!(
                "there is no citypeers data directory at {}",
                config.data_dir.display()
            )));
        }
        match Store::open_embedded(&config.data_dir, 0) {
            Ok(store) => store.snapshot(file).map(|(_, bytes)| bytes).map_err(Into::into),
            Err(StoreError::Locked(_)) => through_control_socket(&config.data_dir, file),
            Err(error) => Err(error.into()),
        }
    })
    .map_err(|error| error.to_string())?;
    let info = Store::erasures_in_snapshot(&mut BufReader::new(
        std::fs::File::open(out).map_err(|error| error.to_string())?,
    ))
    .map(|erasures| erasures.len())
    .map_err(|error| format!("the snapshot written to {} does not check out: {error}", out.display()))?;
    println!("wrote {} ({size} bytes, {info} erasures on its list)", out.display());
    Ok(())
}

fn through_control_socket(data_dir: &Path, file: &mut dyn Write) -> Result<u64, crate::app::AppError> {
    let path = socket_path(data_dir);
    let fail = |error: std::io::Error| {
        crate::app::AppError::Unavailable(format!(
            "a server holds {} but its control socket {} does not answer ({error}); use --url",
            data_dir.display(),
            path.display()
        ))
    };
    let mut connection = UnixStream::connect(&path).map_err(fail)?;
    connection.write_all(BACKUP_COMMAND).map_err(fail)?;
    std::io::copy(&mut connection, file).map_err(fail)
}

/// `citypeers restore SNAPSHOT --data NEWDIR`: the snapshot, then the erasures that other
/// snapshots beside it (and `--erasures` files) know and it does not.
pub fn restore_command(snapshot: &Path, erasure_files: &[PathBuf], settings: &Settings) -> Result<(), String> {
    let mut sources: Vec<PathBuf> = erasure_files.to_vec();
    let folder = snapshot
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    for entry in std::fs::read_dir(folder)
        .map_err(|error| format!("{}: {error}", folder.display()))?
        .flatten()
    {
        let path = entry.path();
        let is_other_snapshot = path != snapshot
            && path.is_file()
            && std::fs::read(&path).is_ok_and(|bytes| bytes.starts_with(b"CITYPEERS-SNAPSHOT"));
        if is_other_snapshot && !sources.contains(&path) {
            sources.push(path);
        }
    }
    let mut erasures = Vec::new();
    for source in &sources {
        erasures.extend(read_erasures(source)?);
    }
    let restored = restore(snapshot, app_config(settings, false), &erasures)?;
    println!(
        "restored {} experts and {} cases as of sequence {} into {}; erased again {} record(s) erased after that snapshot (from {} other snapshot(s) or erasure list(s))",
        restored.snapshot.experts,
        restored.snapshot.cases,
        restored.snapshot.seq,
        settings.data_dir().display(),
        restored.erased_again,
        sources.len()
    );
    Ok(())
}
