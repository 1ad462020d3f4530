//! The built `authbridge` binary, with a clean environment (only what the test passes, so the
//! default log filter applies unless `RUST_LOG` is given): run as a command to completion, or
//! served on 127.0.0.1:0.

use std::io::{BufRead, BufReader, Read as _, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_authbridge");

/// `authbridge args…` in `dir` with `RUST_LOG=info` and `env`, nothing else.
pub fn command(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Run to completion with `stdin` as standard input.
pub fn run(dir: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = command(dir, env, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authbridge");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// Standard output and standard error, as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `serve` on port 0 until it prints its address (`Ok`), or until it exits (`Err(output)`);
/// standard error is collected as it comes, the process killed on drop.
pub struct Served {
    child: Child,
    stderr: std::sync::mpsc::Receiver<String>,
    stderr_done: std::sync::mpsc::Receiver<()>,
}

impl Served {
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Result<Self, (Option<i32>, String)> {
        let mut child = command(dir, env, &["serve", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn authbridge");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (err_tx, err_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
            let _ = done_tx.send(());
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        // A bound on a process that neither starts nor exits, not a wait for time to pass.
        let started = rx.recv_timeout(Duration::from_secs(60)).is_ok();
        let served = Self {
            child,
            stderr: err_rx,
            stderr_done: done_rx,
        };
        if started {
            Ok(served)
        } else {
            let mut served = served;
            let status = served.child.wait().expect("wait");
            Err((status.code(), served.stop_and_read_stderr()))
        }
    }

    /// Stop the server and return everything it wrote to standard error: after the kill, the
    /// pipe's end is what says the log is whole (no sleep for the reader to catch up).
    pub fn stop_and_read_stderr(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.stderr_done.recv_timeout(Duration::from_secs(10));
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The built binary, serving with `env` (nothing else from the environment, so the default log
/// filter applies); returns the child and its address.
pub fn spawn_binary(env: &[(&str, &str)]) -> (Child, SocketAddr) {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authbridge");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read stdout");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    (child, addr)
}

/// Kill a child of [`spawn_binary`] and read its whole standard error.
pub fn stop_and_read_stderr(mut child: Child) -> String {
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log)
        .expect("read stderr");
    log
}
