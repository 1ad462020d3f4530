//! `authbridge serve --upstream`: the built binary proxies to the upstream it is given, and
//! refuses one it cannot use, naming the flag.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Stdio;

use super::{seen, Upstream};
use crate::support::binary::{command, text};
use crate::support::{json_of, SECRET};

#[tokio::test]
async fn serve_upstream_proxies() {
    let upstream = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("DATABASE_URL", "sqlite:///db.sqlite3"),
        ("DJANGO_SECRET_KEY", SECRET),
    ];
    let url = format!("http://{}", upstream.addr);
    let mut child = command(
        dir.path(),
        &env,
        &["serve", "--bind", "127.0.0.1:0", "--upstream", &url],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let addr: SocketAddr = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("line");
        line.trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
    })
    .await
    .expect("address");
    let res = reqwest::get(format!("http://{addr}/echo/from-the-binary"))
        .await
        .expect("request");
    let (status, echo) = json_of(res).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
    assert_eq!(echo["uri"], "/echo/from-the-binary");
    assert_eq!(seen(&echo, "x-forwarded-for"), ["127.0.0.1"]);
}

#[test]
fn serve_refuses_an_upstream_it_cannot_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(
        dir.path(),
        &[("DJANGO_SECRET_KEY", SECRET)],
        &["serve", "--upstream", "https://django.internal"],
    )
    .output()
    .expect("run");
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--upstream") && stderr.contains("http://"),
        "{stderr}"
    );
    let out = command(
        dir.path(),
        &[
            ("DJANGO_SECRET_KEY", SECRET),
            ("AUTHBRIDGE_UPSTREAM", "http://django.internal/app"),
        ],
        &["serve"],
    )
    .output()
    .expect("run");
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("GATEWAY.UPSTREAM") && stderr.contains("no path"),
        "{stderr}"
    );
}
