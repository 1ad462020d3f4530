//! Conformance: the email outbox (claims with leases, retries, dead rows, pruning).

use super::*;
use authbridge::mail::{EmailTemplate, OutgoingEmail};
use authbridge::storage::OutboxState;

fn email(n: usize) -> OutgoingEmail {
    OutgoingEmail {
        to: format!("user{n}@example.com"),
        from: "Example <noreply@example.com>".into(),
        subject: format!("[example.com] Password Reset Email {n}"),
        text: "Hello from example.com!\n\nhttps://example.com/reset/1/x\n".into(),
        html: (n % 2 == 1).then(|| "<p>Hello</p>\n".to_string()),
        template: EmailTemplate::PasswordResetKey,
    }
}

fn t0() -> DateTime<Utc> {
    at("2026-11-30T08:00:00.250Z")
}

/// A row comes back as it went in; a claim counts an attempt and leases the row; it is not due
/// again before the lease ends, and is due again (to anyone) after.
pub(super) async fn outbox_claims_lease_rows_until_they_expire(db: Db) {
    let store = db.migrated().await.clone();
    let now = t0();
    let id = store.enqueue_email(&email(1), now).await.unwrap();
    let lease = now + Duration::minutes(10);
    let claimed = store.claim_due_emails(now, lease, 10, "w1").await.unwrap();
    assert_eq!(claimed.len(), 1);
    let row = &claimed[0];
    assert_eq!(row.id, id);
    assert_eq!(row.email, email(1));
    assert_eq!(row.state, OutboxState::Pending);
    assert_eq!((row.attempts, row.next_attempt_at), (1, lease));
    assert_eq!(row.claimed_by.as_deref(), Some("w1"));
    assert_eq!((row.created_at, row.sent_at), (now, None));
    // Held by w1 until the lease ends.
    let before_end = lease - Duration::milliseconds(1);
    assert!(store
        .claim_due_emails(before_end, before_end + Duration::minutes(10), 10, "w2")
        .await
        .unwrap()
        .is_empty());
    // w1 crashed: once the lease has run out, w2 takes the row, a second attempt.
    let taken = store
        .claim_due_emails(lease, lease + Duration::minutes(10), 10, "w2")
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempts, 2);
    assert_eq!(taken[0].claimed_by.as_deref(), Some("w2"));
    assert!(store.mark_email_sent(id, lease).await.unwrap());
    // Sent is final: a late worker's outcome changes nothing.
    assert!(!store.mark_email_sent(id, lease).await.unwrap());
    assert!(!store
        .mark_email_failed(id, Some(lease), "late")
        .await
        .unwrap());
    let all = store.list_outbox(true, 10).await.unwrap();
    assert_eq!(all[0].state, OutboxState::Sent);
    assert_eq!(all[0].sent_at, Some(lease));
    assert!(store.list_outbox(false, 10).await.unwrap().is_empty());
    assert!(store
        .claim_due_emails(
            lease + Duration::days(1),
            lease + Duration::days(2),
            10,
            "w3"
        )
        .await
        .unwrap()
        .is_empty());
}

/// Due rows are claimed oldest due first, at most `limit` at a time; rows not yet due wait.
pub(super) async fn outbox_claims_due_rows_in_order_and_in_batches(db: Db) {
    let store = db.migrated().await.clone();
    let now = t0();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            store
                .enqueue_email(&email(n), now + Duration::seconds(n as i64))
                .await
                .unwrap(),
        );
    }
    // Row 0 failed and waits a minute.
    let first = store
        .claim_due_emails(now, now + Duration::seconds(1), 1, "w")
        .await
        .unwrap();
    assert_eq!(first[0].id, ids[0]);
    assert!(store
        .mark_email_failed(
            ids[0],
            Some(now + Duration::minutes(1)),
            "SMTP: 421 try later"
        )
        .await
        .unwrap());
    let later = now + Duration::seconds(10);
    let batch = store
        .claim_due_emails(later, later + Duration::minutes(10), 3, "w")
        .await
        .unwrap();
    assert_eq!(
        batch.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[1..4].to_vec()
    );
    let pending = store.list_outbox(false, 100).await.unwrap();
    assert_eq!(pending.len(), 5);
    assert_eq!(
        pending[0].last_error.as_deref(),
        Some("SMTP: 421 try later")
    );
    assert_eq!(pending[0].next_attempt_at, now + Duration::minutes(1));
    let rest = store
        .claim_due_emails(
            now + Duration::minutes(1),
            now + Duration::minutes(11),
            10,
            "w",
        )
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[0], ids[4]]
    );
    assert_eq!(rest[0].attempts, 2);
    assert_eq!(store.list_outbox(true, 2).await.unwrap().len(), 2);
}

/// Many workers claiming at once (as instances on one database do) never get the same row.
pub(super) async fn outbox_concurrent_claimers_never_share_a_row(db: Db) {
    let store = db.migrated().await.clone();
    let now = t0();
    let total = 60;
    for n in 0..total {
        store.enqueue_email(&email(n), now).await.unwrap();
    }
    // Separate stores (pools) on one database, as separate instances would have.
    let mut stores = vec![store.clone()];
    for _ in 0..3 {
        let other = db.open(UserTable::default()).await;
        stores.push(other);
    }
    let tasks = (0..8).map(|w| {
        let store = stores[w % stores.len()].clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_due_emails(now, now + Duration::minutes(10), 3, &format!("w{w}"))
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break;
                }
                for row in &batch {
                    assert_eq!(row.claimed_by.as_deref(), Some(format!("w{w}").as_str()));
                    assert_eq!(row.attempts, 1);
                }
                mine.extend(batch.into_iter().map(|e| e.id));
            }
            mine
        })
    });
    let mut all: Vec<i64> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .collect();
    assert_eq!(all.len(), total, "a row was claimed twice or not at all");
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), total, "a row was claimed by two workers");
}

/// A dead row stays (listed) until retried by hand; pruning deletes only sent rows past the
/// retention.
pub(super) async fn outbox_dead_rows_wait_for_retry_and_sent_rows_are_pruned(db: Db) {
    let store = db.migrated().await.clone();
    let now = t0();
    let dead = store.enqueue_email(&email(1), now).await.unwrap();
    let sent = store.enqueue_email(&email(2), now).await.unwrap();
    store
        .claim_due_emails(now, now + Duration::minutes(10), 10, "w")
        .await
        .unwrap();
    let long_error = "é".repeat(2000);
    assert!(store
        .mark_email_failed(dead, None, &long_error)
        .await
        .unwrap());
    assert!(store.mark_email_sent(sent, now).await.unwrap());
    let listed = store.list_outbox(false, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].state), (dead, OutboxState::Dead));
    assert_eq!(
        listed[0].last_error.as_deref().unwrap().chars().count(),
        500
    );
    // Never due while dead.
    assert!(store
        .claim_due_emails(now + Duration::days(30), now + Duration::days(31), 10, "w")
        .await
        .unwrap()
        .is_empty());
    // Retry: only a dead row, due at once, attempts from zero.
    assert!(!store.retry_email(sent, now).await.unwrap());
    assert!(!store.retry_email(9999, now).await.unwrap());
    let later = now + Duration::hours(1);
    assert!(store.retry_email(dead, later).await.unwrap());
    let again = store
        .claim_due_emails(later, later + Duration::minutes(10), 10, "w")
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].id, again[0].attempts), (1, dead, 1));
    // Pruning: sent rows before the cut-off only.
    assert_eq!(store.prune_sent_emails(now).await.unwrap(), 0);
    assert_eq!(
        store
            .prune_sent_emails(now + Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    let left = store.list_outbox(true, 10).await.unwrap();
    assert_eq!(left.iter().map(|e| e.id).collect::<Vec<_>>(), vec![dead]);
}
