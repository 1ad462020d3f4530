//! A database that cannot be reached or opened fails at once and says which one and why (never
//! the password).

use super::*;
use std::time::Instant;

async fn connect_error(url: &str) -> String {
    match authbridge::storage::connect(url, UserTable::default()).await {
        Ok(_) => panic!("{url} opened"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refused_port_fails_fast_with_host_port_and_cause() {
    // Nothing listens on port 1.
    let started = Instant::now();
    let message = connect_error("postgres://alice:s3cret-pw@127.0.0.1:1/app").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(message.contains("connection refused"), "{message}");
    assert!(message.contains("alice"), "{message}");
    assert!(!message.contains("s3cret-pw"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_missing_database_is_named_as_such() {
    let Ok(server) = std::env::var(PG_ENV) else {
        eprintln!("{PG_ENV} is not set: PostgreSQL connection test skipped");
        return;
    };
    let mut url = url::Url::parse(&server).unwrap();
    let name = format!("authbridge_missing_{}", uuid::Uuid::new_v4().simple());
    url.set_path(&name);
    let host = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    );
    let started = Instant::now();
    let message = connect_error(url.as_str()).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(message.contains(&host), "{message}");
    assert!(message.contains("database does not exist"), "{message}");
    assert!(message.contains(&name), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_path_that_cannot_be_opened_is_named() {
    // A directory that is a regular file: no one, root included, can create a database under it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"").unwrap();
    let path = file.join("db.sqlite3");
    let message = connect_error(&format!("sqlite:///{}", path.display())).await;
    assert!(message.contains(&path.display().to_string()), "{message}");
}
