//! Fresh databases for black-box tests, and raw SQL on them.

/// The database backends every black-box test runs on.
pub fn backends() -> Vec<&'static str> {
    let mut v = vec!["sqlite"];
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        v.push("postgres");
    }
    v
}

/// A fresh, empty database: a temp SQLite file, or a new PostgreSQL database dropped on drop.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: &str) -> Self {
        if backend == "sqlite" {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite:///{}", dir.path().join("db.sqlite3").display());
            return Self {
                url,
                _dir: Some(dir),
                pg: None,
            };
        }
        let server = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
        let name = format!("authbridge_it_{}", uuid::Uuid::new_v4().simple());
        let mut conn = connect_pg(&server).await;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create database");
        let mut url = url::Url::parse(&server).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        Self {
            url: url.to_string(),
            _dir: None,
            pg: Some((server, name)),
        }
    }

    /// Run raw SQL on this database on a connection of its own (what Django or an admin does
    /// behind authbridge's back).
    pub async fn exec(&self, sql: &str) {
        use sqlx::Connection;
        if let Some(path) = self.url.strip_prefix("sqlite:///") {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
                .await
                .expect("sqlite");
            sqlx::query(sql).execute(&mut c).await.expect(sql);
            let _ = c.close().await;
        } else {
            let mut c = sqlx::PgConnection::connect(&self.url).await.expect("pg");
            sqlx::query(sql).execute(&mut c).await.expect(sql);
            let _ = c.close().await;
        }
    }
}

async fn connect_pg(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg.take() {
            // Best effort, on its own runtime: the test's runtime may be shutting down.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        let mut conn = connect_pg(&server).await;
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut conn)
                        .await;
                    });
                }
            })
            .join();
        }
    }
}
