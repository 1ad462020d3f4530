//! `authbridge outbox`: what the email outbox holds (pending and dead emails; `--all` adds the
//! sent ones kept for the retention period), and `authbridge outbox retry <id>` to send a dead
//! email again. Never prints a body.

use clap::Subcommand;

use super::CliError;
use crate::app;
use crate::config::Settings;
use crate::storage::{OutboxEntry, OutboxState};

/// At most this many rows are printed.
const MAX_ROWS: i64 = 1000;

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Make a dead email pending again, due at once (a running server sends it at its next pass).
    Retry { id: i64 },
}

pub async fn outbox(
    settings: Settings,
    all: bool,
    command: Option<OutboxCommand>,
) -> Result<(), CliError> {
    let store = app::open_store(&settings).await?;
    match command {
        Some(OutboxCommand::Retry { id }) => {
            if store.retry_email(id, chrono::Utc::now()).await? {
                println!(
                    "Email {id} is pending again; a running server sends it within \
                     AUTHBRIDGE_OUTBOX_POLL_INTERVAL."
                );
                Ok(())
            } else {
                Err(CliError::Usage(format!(
                    "no dead email with id {id} (see `authbridge outbox`)"
                )))
            }
        }
        None => {
            let rows = store.list_outbox(all, MAX_ROWS + 1).await?;
            print!("{}", table(&rows, all, chrono::Utc::now()));
            Ok(())
        }
    }
}

/// The listing: one line per email, columns aligned.
fn table(rows: &[OutboxEntry], all: bool, now: chrono::DateTime<chrono::Utc>) -> String {
    if rows.is_empty() {
        return if all {
            "The outbox is empty.\n".into()
        } else {
            "No email is waiting.\n".into()
        };
    }
    let shown = &rows[..rows.len().min(MAX_ROWS as usize)];
    let mut lines = vec![[
        "ID".to_string(),
        "STATE".into(),
        "ATTEMPTS".into(),
        "NEXT ATTEMPT".into(),
        "TO".into(),
        "SUBJECT".into(),
        "LAST ERROR".into(),
    ]];
    for row in shown {
        lines.push([
            row.id.to_string(),
            row.state.as_str().into(),
            row.attempts.to_string(),
            next_attempt(row, now),
            printable(&row.email.to, 80),
            printable(&row.email.subject, 60),
            row.last_error
                .as_deref()
                .map_or_else(|| "-".into(), |e| printable(e, 100)),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c == 6 {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if rows.len() > shown.len() {
        out.push_str(&format!("(only the first {MAX_ROWS} are shown)\n"));
    }
    out
}

fn next_attempt(row: &OutboxEntry, now: chrono::DateTime<chrono::Utc>) -> String {
    match row.state {
        OutboxState::Sent => row.sent_at.map_or_else(
            || "-".into(),
            |at| format!("sent {}", at.format("%Y-%m-%d %H:%M:%SZ")),
        ),
        OutboxState::Dead => "never (dead)".into(),
        OutboxState::Pending if row.next_attempt_at <= now => "now".into(),
        OutboxState::Pending => row.next_attempt_at.format("%Y-%m-%d %H:%M:%SZ").to_string(),
    }
}

/// One line, control characters shown as `?`, cut at `max` characters.
fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(max)
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mail::{EmailTemplate, OutgoingEmail};

    fn row(id: i64, state: OutboxState, error: Option<&str>) -> OutboxEntry {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        OutboxEntry {
            id,
            email: OutgoingEmail {
                to: "alice@example.com".into(),
                from: "noreply@example.com".into(),
                subject: "[example.com] Password Reset Email".into(),
                text: "secret link https://example.com/reset/x\n".into(),
                html: None,
                template: EmailTemplate::PasswordResetKey,
            },
            state,
            attempts: 2,
            next_attempt_at: at,
            claimed_by: None,
            last_error: error.map(str::to_string),
            created_at: at,
            sent_at: None,
        }
    }

    #[test]
    fn rows_are_aligned_and_never_show_the_body() {
        let now = chrono::DateTime::from_timestamp(1_799_999_000, 0).unwrap();
        let out = table(
            &[
                row(1, OutboxState::Pending, Some("SMTP: connection\r\nrefused")),
                row(12, OutboxState::Dead, Some("SMTP: 550")),
            ],
            false,
            now,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("ID  STATE    ATTEMPTS  NEXT ATTEMPT"),
            "{out}"
        );
        assert!(
            lines[1].starts_with("1   pending  2         2027-01-15 08:00:00Z"),
            "{out}"
        );
        assert!(lines[1].ends_with("SMTP: connection??refused"), "{out}");
        assert!(lines[2].contains("never (dead)"), "{out}");
        assert!(!out.contains("secret link"), "{out}");
        assert_eq!(table(&[], false, now), "No email is waiting.\n");
    }
}
