//! Security events: one structured `info` line each (target `authbridge::audit`) and one counter
//! per kind (`authbridge_security_events_total{event=...}`, exported at `/metrics`). Never pass a
//! secret, password or token here: usernames, user ids and client addresses only.

use std::net::IpAddr;

/// The kinds of security event. The names are stable: dashboards and log queries use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    LoginOk,
    LoginFailed,
    LoginThrottled,
    LoginLocked,
    LoginQueueFull,
    Refresh,
    RefreshRefused,
    ReuseDetected,
    Blacklist,
    Logout,
    LogoutEverywhere,
    SessionExchange,
    SessionRefused,
    Sync,
    SyncRefused,
    PasswordChanged,
    DisallowedHost,
    Signup,
    EmailVerified,
    PasswordResetRequested,
    PasswordReset,
    AccountThrottled,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginOk => "login_ok",
            Self::LoginFailed => "login_failed",
            Self::LoginThrottled => "login_throttled",
            Self::LoginLocked => "login_locked",
            Self::LoginQueueFull => "login_queue_full",
            Self::Refresh => "refresh",
            Self::RefreshRefused => "refresh_refused",
            Self::ReuseDetected => "reuse_detected",
            Self::Blacklist => "blacklist",
            Self::Logout => "logout",
            Self::LogoutEverywhere => "logout_everywhere",
            Self::SessionExchange => "session_exchange",
            Self::SessionRefused => "session_refused",
            Self::Sync => "sync",
            Self::SyncRefused => "sync_refused",
            Self::PasswordChanged => "password_changed",
            Self::DisallowedHost => "disallowed_host",
            Self::Signup => "signup",
            Self::EmailVerified => "email_verified",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::AccountThrottled => "account_throttled",
        }
    }
}

/// Who and from where; every field optional because not every event knows all of them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Subject<'a> {
    pub username: Option<&'a str>,
    pub user_id: Option<i64>,
    pub client: Option<IpAddr>,
    /// A short reason (`"bad_password"`, `"inactive"`, `"family_revoked"`), never a secret.
    pub reason: Option<&'a str>,
}

/// Log the event and count it.
pub fn record(event: Event, subject: Subject<'_>) {
    metrics::counter!("authbridge_security_events_total", "event" => event.as_str()).increment(1);
    tracing::info!(
        target: "authbridge::audit",
        event = event.as_str(),
        username = subject.username,
        user_id = subject.user_id,
        client = subject.client.map(tracing::field::display),
        reason = subject.reason,
        "security event"
    );
}
