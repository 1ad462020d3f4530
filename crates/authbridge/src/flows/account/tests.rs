//! The account flows on an in-memory SQLite store, a MockClock, a recording mailer and queued background jobs.
