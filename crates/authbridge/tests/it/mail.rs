//! Email, black-box: `Mail::send` through the outbox worker to an SMTP server over TCP (the
//! in-test sink of `support::smtp`), on every backend. The mail server down at first and then
//! back (the email waits, `authbridge outbox` shows it, it is delivered once), a server that
//! refuses for a while, two instances sharing one database, header injection, and the running
//! server's worker woken by a send and stopped with the server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use authbridge::app::{self, build_state_with, open_store, Application};
use authbridge::clock::MockClock;
use authbridge::mail::outbox::OutboxWorker;
use authbridge::mail::{EmailContext, EmailTemplate, MailError};
use authbridge::random::SeededRandom;
use authbridge::storage::OutboxState;
use tokio::sync::watch;

use crate::support::binary::{run, text};
use crate::support::smtp::{free_port, SmtpSink};
use crate::support::{backends, settings, TestDb, SECRET};

/// What allauth 65.21.1 sent for register_ok_mandatory (accounts_wire_probe.json).
const SIGNUP_BODY: &str = "Hello from example.com!\n\nYou're receiving this email because user \
     alice has given your email address to register an account on example.com.\n\nTo confirm \
     this is correct, go to http://localhost:3000/verify-email/MQ:1xXo6U:brgZbxNLSzr9tJ6wcijAXhUw\
     RviDnonaYjQrySJom_8\n\nThank you for using example.com!\nexample.com\n";
const SIGNUP_LINK: &str =
    "http://localhost:3000/verify-email/MQ:1xXo6U:brgZbxNLSzr9tJ6wcijAXhUwRviDnonaYjQrySJom_8";

fn ctx(username: &str, email: &str) -> EmailContext {
    EmailContext {
        site_name: "example.com".into(),
        site_domain: "example.com".into(),
        username: username.into(),
        email: email.into(),
        link: SIGNUP_LINK.into(),
    }
}

/// Each instance draws its own worker name.
static SEED: AtomicU64 = AtomicU64::new(1);

/// The server's state on `db` with a `MockClock`, mailing to 127.0.0.1:`port`, and its worker.
struct Instance {
    state: authbridge::http::AppState,
    clock: MockClock,
    worker: OutboxWorker,
}

async fn instance(db: &TestDb, port: u16, extra: &[(&str, &str)]) -> Instance {
    let port = port.to_string();
    let mut overrides = vec![
        ("EMAIL_HOST", "127.0.0.1"),
        ("EMAIL_PORT", port.as_str()),
        ("EMAIL_TIMEOUT", "5"),
        ("DEFAULT_FROM_EMAIL", "noreply@example.com"),
    ];
    overrides.extend_from_slice(extra);
    let settings = settings(&db.url, &overrides);
    let store = open_store(&settings).await.unwrap();
    let clock = MockClock::new(chrono::Utc::now());
    let state = build_state_with(
        settings,
        store,
        Arc::new(clock.clone()),
        Arc::new(SeededRandom::new(SEED.fetch_add(1, Ordering::Relaxed))),
    )
    .await
    .unwrap();
    let worker = app::outbox_worker(&state).unwrap();
    Instance {
        state,
        clock,
        worker,
    }
}

fn running() -> watch::Receiver<bool> {
    // The sender is leaked for the test's length: the worker only reads the flag.
    let (tx, rx) = watch::channel(false);
    std::mem::forget(tx);
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_goes_out_over_smtp_as_allauth_sends_it() {
    for backend in backends() {
        let sink = SmtpSink::start().await;
        let db = TestDb::new(backend).await;
        let i = instance(&db, sink.addr.port(), &[]).await;
        i.state
            .mail
            .send(
                EmailTemplate::EmailConfirmationSignup,
                "alice@example.com",
                &ctx("alice", "alice@example.com"),
            )
            .await
            .unwrap();
        let pass = i.worker.run_once(&running()).await.unwrap();
        assert_eq!((pass.claimed, pass.sent), (1, 1), "{backend}");
        let got = sink.received();
        assert_eq!(got.len(), 1, "{backend}");
        let message = &got[0];
        assert_eq!(message.mail_from, "noreply@example.com");
        assert_eq!(message.rcpt_to, ["alice@example.com"]);
        assert_eq!(
            message.header("Subject").as_deref(),
            Some("[example.com] Please Confirm Your Email Address")
        );
        assert_eq!(
            message.header("From").as_deref(),
            Some("noreply@example.com")
        );
        assert_eq!(message.header("To").as_deref(), Some("alice@example.com"));
        assert_eq!(
            message.header("Content-Type").as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(message.text_body(), SIGNUP_BODY, "{backend}");
        let rows = i.state.store.list_outbox(true, 10).await.unwrap();
        assert_eq!(rows[0].state, OutboxState::Sent, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_server_down_the_email_waits_and_is_delivered_once_it_is_back() {
    for backend in backends() {
        let port = free_port().await;
        let db = TestDb::new(backend).await;
        let i = instance(&db, port, &[]).await;
        // The request that causes the email succeeds although nothing listens.
        i.state
            .mail
            .send(
                EmailTemplate::PasswordResetKey,
                "alice@example.com",
                &ctx("alice", "alice@example.com"),
            )
            .await
            .unwrap();
        let pass = i.worker.run_once(&running()).await.unwrap();
        assert_eq!((pass.claimed, pass.retried), (1, 1), "{backend}");
        let row = i.state.store.list_outbox(false, 10).await.unwrap()[0].clone();
        assert_eq!((row.state, row.attempts), (OutboxState::Pending, 1));
        assert!(
            row.last_error.as_deref().unwrap().contains("SMTP"),
            "{row:?}"
        );

        // `authbridge outbox` shows what waits, never the body (the reset link).
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("DJANGO_SECRET_KEY", SECRET),
        ];
        let out = run(dir.path(), &env, &["outbox"], "");
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        let line = stdout
            .lines()
            .find(|l| l.contains("alice@example.com"))
            .unwrap_or_else(|| panic!("{stdout}"));
        assert!(line.starts_with(&format!("{}  ", row.id)), "{stdout}");
        assert!(line.contains("pending"), "{stdout}");
        assert!(
            line.contains("[example.com] Password Reset Email"),
            "{stdout}"
        );
        assert!(line.contains("SMTP"), "{stdout}");
        assert!(!stdout.contains(SIGNUP_LINK), "{stdout}");

        // Not due yet: the worker leaves it alone.
        assert_eq!(i.worker.run_once(&running()).await.unwrap().claimed, 0);

        // The server comes back, but refuses for a while (451): one more attempt, still waiting.
        let sink = SmtpSink::start_on(port).await;
        sink.refuse(true);
        i.clock.advance(chrono::Duration::hours(2));
        assert_eq!(i.worker.run_once(&running()).await.unwrap().retried, 1);
        assert!(sink.received().is_empty());
        let row = i.state.store.list_outbox(false, 10).await.unwrap()[0].clone();
        assert_eq!(row.attempts, 2);
        assert!(
            row.last_error.as_deref().unwrap().contains("451"),
            "{row:?}"
        );

        sink.refuse(false);
        i.clock.advance(chrono::Duration::hours(2));
        assert_eq!(i.worker.run_once(&running()).await.unwrap().sent, 1);
        // Later passes send nothing more: delivered exactly once.
        i.clock.advance(chrono::Duration::days(1));
        assert_eq!(i.worker.run_once(&running()).await.unwrap().claimed, 0);
        let got = sink.received();
        assert_eq!(got.len(), 1, "{backend}");
        assert!(got[0]
            .text_body()
            .contains("In case you forgot, your username is alice."));

        let out = run(dir.path(), &env, &["outbox"], "");
        assert_eq!(text(&out).0, "No email is waiting.\n");
        let out = run(dir.path(), &env, &["outbox", "--all"], "");
        assert!(text(&out).0.contains("sent"), "{}", text(&out).0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_email_is_revived_by_outbox_retry() {
    let port = free_port().await;
    let db = TestDb::new("sqlite").await;
    let i = instance(&db, port, &[("AUTHBRIDGE_OUTBOX_MAX_ATTEMPTS", "1")]).await;
    i.state
        .mail
        .send(
            EmailTemplate::EmailConfirmation,
            "bob@example.com",
            &ctx("bob", "bob@example.com"),
        )
        .await
        .unwrap();
    assert_eq!(i.worker.run_once(&running()).await.unwrap().dead, 1);
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("DJANGO_SECRET_KEY", SECRET),
    ];
    let listed = text(&run(dir.path(), &env, &["outbox"], "")).0;
    assert!(
        listed.contains("dead") && listed.contains("never (dead)"),
        "{listed}"
    );
    let id = i.state.store.list_outbox(false, 10).await.unwrap()[0].id;
    let out = run(dir.path(), &env, &["outbox", "retry", "999999"], "");
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("no dead email with id 999999"),
        "{}",
        text(&out).1
    );
    let out = run(dir.path(), &env, &["outbox", "retry", &id.to_string()], "");
    assert!(out.status.success(), "{:?}", text(&out));
    let sink = SmtpSink::start_on(port).await;
    // `retry` set it due at the wall clock's now; the test clock is there already.
    i.clock.advance(chrono::Duration::seconds(5));
    assert_eq!(i.worker.run_once(&running()).await.unwrap().sent, 1);
    assert_eq!(sink.received()[0].rcpt_to, ["bob@example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_send_each_email_once() {
    for backend in backends() {
        let sink = SmtpSink::start().await;
        let db = TestDb::new(backend).await;
        let a = instance(&db, sink.addr.port(), &[("AUTHBRIDGE_OUTBOX_BATCH", "2")]).await;
        let b = instance(&db, sink.addr.port(), &[("AUTHBRIDGE_OUTBOX_BATCH", "2")]).await;
        let total = 16;
        for n in 0..total {
            let to = format!("user{n}@example.com");
            let by = if n % 2 == 0 { &a } else { &b };
            by.state
                .mail
                .send(EmailTemplate::EmailConfirmation, &to, &ctx("u", &to))
                .await
                .unwrap();
        }
        let drain = |worker: OutboxWorker| {
            tokio::spawn(async move {
                let mut sent = 0;
                loop {
                    let pass = worker.run_once(&running()).await.unwrap();
                    if pass.claimed == 0 {
                        return sent;
                    }
                    sent += pass.sent;
                }
            })
        };
        let (sa, sb) = tokio::join!(drain(a.worker), drain(b.worker));
        let (sa, sb) = (sa.unwrap(), sb.unwrap());
        assert_eq!(sa + sb, total, "{backend}");
        let mut recipients: Vec<String> = sink
            .received()
            .into_iter()
            .flat_map(|m| m.rcpt_to)
            .collect();
        assert_eq!(
            recipients.len(),
            total,
            "{backend}: an email went out twice"
        );
        recipients.sort();
        recipients.dedup();
        assert_eq!(recipients.len(), total, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_injection_is_refused_or_neutralised() {
    let sink = SmtpSink::start().await;
    let db = TestDb::new("sqlite").await;
    let i = instance(&db, sink.addr.port(), &[]).await;
    // A recipient with a line break is refused before anything is stored.
    for to in [
        "alice@example.com\r\nBcc: eve@example.com",
        "alice@example.com\nBcc: eve@example.com",
        "alice@example.com, eve@example.com",
        "Eve <eve@example.com>",
    ] {
        let err = i
            .state
            .mail
            .send(EmailTemplate::PasswordResetKey, to, &ctx("alice", to))
            .await
            .unwrap_err();
        assert!(matches!(err, MailError::InvalidAddress(_)), "{to:?}: {err}");
    }
    assert!(i
        .state
        .store
        .list_outbox(true, 10)
        .await
        .unwrap()
        .is_empty());

    // Line breaks in the values that reach the subject and the body do not make headers, and a
    // lone "." line in the body cannot end DATA early (SMTP smuggling): it is dot-stuffed.
    let mut evil = ctx(
        "x\r\n.\r\nMAIL FROM:<eve@example.com>\r\nRCPT TO:<eve@example.com>",
        "alice@example.com",
    );
    evil.site_name = "Shop\r\nBcc: eve@example.com".into();
    i.state
        .mail
        .send(EmailTemplate::EmailConfirmation, "alice@example.com", &evil)
        .await
        .unwrap();
    assert_eq!(i.worker.run_once(&running()).await.unwrap().sent, 1);
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, ["alice@example.com"]);
    assert_eq!(got[0].mail_from, "noreply@example.com");
    assert!(got[0].header("Bcc").is_none(), "{}", got[0].data);
    let subject = got[0].header("Subject").unwrap();
    assert_eq!(
        subject,
        "[Shop  Bcc: eve@example.com] Please Confirm Your Email Address"
    );
    assert!(got[0]
        .text_body()
        .contains("\n.\nMAIL FROM:<eve@example.com>\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_server_sends_when_woken_and_its_worker_stops_with_it() {
    let sink = SmtpSink::start().await;
    let db = TestDb::new("sqlite").await;
    let port = sink.addr.port().to_string();
    let settings = settings(
        &db.url,
        &[
            ("EMAIL_HOST", "127.0.0.1"),
            ("EMAIL_PORT", &port),
            ("DEFAULT_FROM_EMAIL", "Example <noreply@example.com>"),
            // Only the wake-up can make it prompt.
            ("AUTHBRIDGE_OUTBOX_POLL_INTERVAL", "1h"),
        ],
    );
    let server = Application::build(settings).await.unwrap();
    let mail = server.state().mail.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    mail.send(
        EmailTemplate::EmailConfirmation,
        "carol@example.com",
        &ctx("carol", "carol@example.com"),
    )
    .await
    .unwrap();
    let got = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got[0].rcpt_to, ["carol@example.com"]);
    assert_eq!(
        got[0].header("From").as_deref(),
        Some("Example <noreply@example.com>")
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("server and worker stop")
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_template_override_stops_the_start() {
    let db = TestDb::new("sqlite").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("account/email")).unwrap();
    std::fs::write(
        dir.path()
            .join("account/email/password_reset_key_message.txt"),
        "{{ password_reset_url }} {% if %}",
    )
    .unwrap();
    let path = dir.path().display().to_string();
    let settings = settings(&db.url, &[("AUTHBRIDGE_EMAIL_TEMPLATES_DIR", &path)]);
    let err = Application::build(settings)
        .await
        .err()
        .expect("start refused");
    assert!(
        err.to_string().contains("password_reset_key_message.txt"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_backend_prints_instead_of_sending() {
    let db = TestDb::new("sqlite").await;
    let i = instance(
        &db,
        free_port().await,
        &[(
            "EMAIL_BACKEND",
            "django.core.mail.backends.console.EmailBackend",
        )],
    )
    .await;
    i.state
        .mail
        .send(
            EmailTemplate::EmailConfirmation,
            "dan@example.com",
            &ctx("dan", "dan@example.com"),
        )
        .await
        .unwrap();
    // Nothing listens on the SMTP port, yet the console "delivers".
    assert_eq!(i.worker.run_once(&running()).await.unwrap().sent, 1);
}
