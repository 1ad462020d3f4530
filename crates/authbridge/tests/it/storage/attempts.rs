//! Conformance: Login attempt counters.

use super::*;

/// Counters keep milliseconds.
pub(super) fn t0_ms() -> DateTime<Utc> {
    at("2026-11-27T03:00:00.123Z")
}

pub(super) fn attempt_rule(limit: i64, seconds: i64) -> AttemptRule {
    AttemptRule {
        limit,
        period: Duration::seconds(seconds),
    }
}

/// 50 concurrent attempts on one key get the counts 1..=50, each once; the period restarts at the
/// attempt that reaches the limit, and only there.
pub(super) async fn login_attempts_are_counted_atomically(db: Db) {
    login_attempts_on(&db).await;
}

pub(super) async fn login_attempts_on(db: &Db) {
    let store = db.migrated().await.clone();
    let now = t0_ms();
    let rule = attempt_rule(5, 900);
    let tasks = (0..50).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.count_attempt("k", rule, now).await.unwrap() })
    });
    let mut counts: Vec<_> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    counts.sort_by_key(|c| c.attempts);
    let numbers: Vec<i64> = counts.iter().map(|c| c.attempts).collect();
    assert_eq!(numbers, (1..=50).collect::<Vec<_>>());
    assert!(counts
        .iter()
        .all(|c| c.reset_at == now + Duration::seconds(900)));
    // Another key is counted apart.
    assert_eq!(
        store
            .count_attempt("other", rule, now)
            .await
            .unwrap()
            .attempts,
        1
    );
}

pub(super) async fn login_attempt_periods_restart_and_settle(db: Db) {
    let store = db.migrated().await;
    let rule = attempt_rule(3, 60);
    let t = t0_ms();
    let count = |key: &'static str, at: DateTime<Utc>| {
        let store = store.clone();
        async move { store.count_attempt(key, rule, at).await.unwrap() }
    };
    assert_eq!(count("k", t).await.reset_at, t + Duration::seconds(60));
    // The attempt that reaches the limit restarts the period: the lock lasts a whole period.
    assert_eq!(count("k", t + Duration::seconds(10)).await.attempts, 2);
    let third = count("k", t + Duration::seconds(20)).await;
    assert_eq!(third.attempts, 3);
    assert_eq!(third.reset_at, t + Duration::seconds(80));
    // Later attempts do not extend it.
    let fourth = count("k", t + Duration::seconds(30)).await;
    assert_eq!(
        (fourth.attempts, fourth.reset_at),
        (4, t + Duration::seconds(80))
    );
    // At the reset time the count starts again.
    let fresh = count("k", t + Duration::seconds(80)).await;
    assert_eq!(
        (fresh.attempts, fresh.reset_at),
        (1, t + Duration::seconds(140))
    );

    // Take one back, never below zero; clear forgets the key.
    store.uncount_attempt("k").await.unwrap();
    store.uncount_attempt("k").await.unwrap();
    store.uncount_attempt("missing").await.unwrap();
    assert_eq!(count("k", t + Duration::seconds(81)).await.attempts, 1);
    store.clear_attempts("k").await.unwrap();
    let after_clear = count("k", t + Duration::seconds(90)).await;
    assert_eq!(
        (after_clear.attempts, after_clear.reset_at),
        (1, t + Duration::seconds(150))
    );

    // Purge deletes only counters whose period is over.
    count("old", t).await;
    assert_eq!(
        store
            .purge_attempts(t + Duration::seconds(100))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM authbridge_login_attempt")
            .await,
        1
    );
}
