//! Conformance: `authbridge doctor`'s read-only inspection.

use super::*;

/// `authbridge doctor`'s read: nothing on an empty database, then the tables, authbridge's
/// migrations, each hash algorithm prefix with its count (never a hash), and the database clock.
pub(super) async fn inspect_reports_tables_migrations_hash_algorithms_and_clock(db: Db) {
    let empty = db.store.inspect().await.unwrap();
    assert!(empty.password_algorithms.is_empty());
    assert!(empty.own_migrations_applied.is_empty());
    assert!(!empty.tables.iter().any(|t| t == "auth_user"));
    // Inspecting creates nothing.
    assert!(!db.tables().await.contains("auth_user"));

    let store = db.migrated().await;
    let mut users = vec![
        ("p1", "pbkdf2_sha256$1000000$salt$hash="),
        ("p2", "pbkdf2_sha256$870000$salt$hash="),
        ("a1", "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA"),
        ("u1", "!unusable0123456789012345678901234567890"),
        ("e1", ""),
        ("m1", "0123456789abcdef0123456789abcdef"),
    ];
    for (username, password) in users.drain(..) {
        let mut user = new_user(username, "");
        user.password = password.to_string();
        store.create_user(&user, t0()).await.unwrap();
    }
    let before = Utc::now();
    let report = store.inspect().await.unwrap();
    let after = Utc::now();
    for table in [
        "auth_user",
        "token_blacklist_outstandingtoken",
        "authbridge_migrations",
    ] {
        assert!(report.tables.iter().any(|t| t == table), "{table}");
    }
    assert_eq!(
        report.own_migrations_applied,
        authbridge::storage::Inspection::own_migrations_known()
    );
    let mut algorithms = report.password_algorithms.clone();
    algorithms.sort();
    assert_eq!(
        algorithms,
        [
            ("".to_string(), 2),
            ("!".to_string(), 1),
            ("argon2".to_string(), 1),
            ("pbkdf2_sha256".to_string(), 2),
        ]
    );
    // SQLite's clock has millisecond precision; allow for it.
    let slack = Duration::milliseconds(5);
    assert!(
        report.now >= before - slack && report.now <= after + slack,
        "{} not in [{before}, {after}]",
        report.now
    );
}
