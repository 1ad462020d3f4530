//! The worker on an in-memory SQLite store, a `MockClock`, seeded randomness and a mailer that
//! fails on demand: no sleeping, no network.

use super::*;
use crate::clock::MockClock;
use crate::mail::{EmailContext, EmailTemplate, Mail, OutgoingEmail, Templates};
use crate::random::SeededRandom;
use crate::storage::{self, OutboxState, UserTable};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Delivers into a list, or fails while `failing` is above zero (counting down).
#[derive(Default)]
struct FakeMailer {
    delivered: Mutex<Vec<OutgoingEmail>>,
    failing: AtomicUsize,
    invalid: bool,
}

#[async_trait::async_trait]
impl Mailer for FakeMailer {
    async fn deliver(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        if self.invalid {
            return Err(MailError::InvalidAddress("refused".into()));
        }
        if self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(MailError::Transport("SMTP: connection refused".into()));
        }
        self.delivered.lock().unwrap().push(email.clone());
        Ok(())
    }
}

struct Setup {
    store: storage::DynStore,
    clock: MockClock,
    mail: Mail,
    mailer: Arc<FakeMailer>,
    worker: OutboxWorker,
    stop: watch::Receiver<bool>,
    _stop_tx: watch::Sender<bool>,
}

async fn setup(mailer: FakeMailer, policy: OutboxPolicy) -> Setup {
    let store = storage::connect("sqlite://:memory:", UserTable::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let clock = MockClock::new(DateTime::from_timestamp(1_800_000_000, 0).unwrap());
    let mail = Mail::new(
        Templates::defaults(None).unwrap(),
        "noreply@example.com",
        store.clone(),
        Arc::new(clock.clone()),
    )
    .unwrap();
    let mailer = Arc::new(mailer);
    let worker = OutboxWorker::new(
        store.clone(),
        mailer.clone(),
        Arc::new(clock.clone()),
        Arc::new(SeededRandom::new(7)),
        policy,
        mail.wake_handle(),
    );
    let (stop_tx, stop) = watch::channel(false);
    Setup {
        store,
        clock,
        mail,
        mailer,
        worker,
        stop,
        _stop_tx: stop_tx,
    }
}

fn ctx() -> EmailContext {
    EmailContext {
        site_name: "example.com".into(),
        site_domain: "example.com".into(),
        username: "alice".into(),
        email: "alice@example.com".into(),
        link: "https://example.com/reset/".into(),
    }
}

use crate::clock::Clock;
use chrono::DateTime;

#[tokio::test]
async fn a_queued_email_is_sent_once_and_marked_sent() {
    let s = setup(FakeMailer::default(), OutboxPolicy::default()).await;
    s.mail
        .send(EmailTemplate::PasswordResetKey, "alice@example.com", &ctx())
        .await
        .unwrap();
    let pass = s.worker.run_once(&s.stop).await.unwrap();
    assert_eq!((pass.claimed, pass.sent), (1, 1));
    let delivered = s.mailer.delivered.lock().unwrap().clone();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].subject, "[example.com] Password Reset Email");
    // Nothing is due any more.
    assert_eq!(s.worker.run_once(&s.stop).await.unwrap(), Pass::default());
    let rows = s.store.list_outbox(true, 10).await.unwrap();
    assert_eq!(rows[0].state, OutboxState::Sent);
    assert_eq!(rows[0].sent_at, Some(s.clock.now()));
    assert!(s.store.list_outbox(false, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn failures_back_off_then_the_email_goes_out() {
    let mailer = FakeMailer {
        failing: AtomicUsize::new(2),
        ..FakeMailer::default()
    };
    let policy = OutboxPolicy::default();
    let s = setup(mailer, policy.clone()).await;
    s.mail
        .send(
            EmailTemplate::EmailConfirmation,
            "alice@example.com",
            &ctx(),
        )
        .await
        .unwrap();
    let pass = s.worker.run_once(&s.stop).await.unwrap();
    assert_eq!(pass.retried, 1);
    let row = &s.store.list_outbox(false, 10).await.unwrap()[0];
    assert_eq!(row.attempts, 1);
    assert_eq!(
        row.last_error.as_deref(),
        Some("delivery failed: SMTP: connection refused")
    );
    let first_delay = row.next_attempt_at - s.clock.now();
    assert!(first_delay >= policy.retry_base / 2 && first_delay <= policy.retry_base);
    // Not due yet: nothing is claimed.
    assert_eq!(s.worker.run_once(&s.stop).await.unwrap().claimed, 0);
    s.clock.advance(first_delay);
    assert_eq!(s.worker.run_once(&s.stop).await.unwrap().retried, 1);
    let row = &s.store.list_outbox(false, 10).await.unwrap()[0];
    let second_delay = row.next_attempt_at - s.clock.now();
    assert!(second_delay >= policy.retry_base && second_delay <= policy.retry_base * 2);
    s.clock.advance(second_delay);
    assert_eq!(s.worker.run_once(&s.stop).await.unwrap().sent, 1);
    assert_eq!(s.mailer.delivered.lock().unwrap().len(), 1);
    let row = &s.store.list_outbox(true, 10).await.unwrap()[0];
    assert_eq!((row.state, row.attempts), (OutboxState::Sent, 3));
}

#[tokio::test]
async fn after_the_last_attempt_the_row_is_dead_and_retry_revives_it() {
    let mailer = FakeMailer {
        failing: AtomicUsize::new(3),
        ..FakeMailer::default()
    };
    let policy = OutboxPolicy {
        max_attempts: 3,
        ..OutboxPolicy::default()
    };
    let s = setup(mailer, policy).await;
    s.mail
        .send(
            EmailTemplate::EmailConfirmation,
            "alice@example.com",
            &ctx(),
        )
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(s.worker.run_once(&s.stop).await.unwrap().retried, 1);
        s.clock.advance(chrono::Duration::hours(2));
    }
    assert_eq!(s.worker.run_once(&s.stop).await.unwrap().dead, 1);
    s.clock.advance(chrono::Duration::days(1));
    assert_eq!(s.worker.run_once(&s.stop).await.unwrap().claimed, 0);
    let row = s.store.list_outbox(false, 10).await.unwrap()[0].clone();
    assert_eq!((row.state, row.attempts), (OutboxState::Dead, 3));
    assert!(s.store.retry_email(row.id, s.clock.now()).await.unwrap());
    assert_eq!(s.worker.run_once(&s.stop).await.unwrap().sent, 1);
    assert_eq!(s.mailer.delivered.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_address_the_transport_refuses_is_dead_at_once() {
    let mailer = FakeMailer {
        invalid: true,
        ..FakeMailer::default()
    };
    let s = setup(mailer, OutboxPolicy::default()).await;
    s.mail
        .send(
            EmailTemplate::EmailConfirmation,
            "alice@example.com",
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(s.worker.run_once(&s.stop).await.unwrap().dead, 1);
}

#[tokio::test]
async fn a_stopping_worker_releases_its_batch() {
    let s = setup(FakeMailer::default(), OutboxPolicy::default()).await;
    for _ in 0..3 {
        s.mail
            .send(
                EmailTemplate::EmailConfirmation,
                "alice@example.com",
                &ctx(),
            )
            .await
            .unwrap();
    }
    let (_tx, stopped) = watch::channel(true);
    let pass = s.worker.run_once(&stopped).await.unwrap();
    assert_eq!((pass.claimed, pass.released, pass.sent), (3, 3, 0));
    // Due at once for the next worker.
    assert_eq!(s.worker.run_once(&s.stop).await.unwrap().sent, 3);
}

#[tokio::test]
async fn sent_rows_are_pruned_after_the_retention_period() {
    let policy = OutboxPolicy {
        retention: chrono::Duration::days(7),
        ..OutboxPolicy::default()
    };
    let s = setup(FakeMailer::default(), policy).await;
    s.mail
        .send(
            EmailTemplate::EmailConfirmation,
            "alice@example.com",
            &ctx(),
        )
        .await
        .unwrap();
    s.worker.run_once(&s.stop).await.unwrap();
    s.clock.advance(chrono::Duration::days(6));
    assert_eq!(s.worker.prune().await.unwrap(), 0);
    s.clock.advance(chrono::Duration::days(2));
    assert_eq!(s.worker.prune().await.unwrap(), 1);
    assert!(s.store.list_outbox(true, 10).await.unwrap().is_empty());
}

#[test]
fn backoff_doubles_with_jitter_and_is_capped() {
    let policy = OutboxPolicy {
        retry_base: chrono::Duration::seconds(30),
        retry_max: chrono::Duration::seconds(3600),
        ..OutboxPolicy::default()
    };
    let random = SeededRandom::new(1);
    for attempts in 1..=20 {
        let full = (30_i64 << (attempts - 1).min(20)).min(3600);
        let delay = retry_delay(attempts, &policy, &random).num_milliseconds();
        assert!(
            delay >= full * 500 && delay <= full * 1000,
            "attempt {attempts}: {delay} ms"
        );
    }
    // Two emails that failed together come back at different times.
    let a = retry_delay(5, &policy, &random);
    let b = retry_delay(5, &policy, &random);
    assert_ne!(a, b);
}
