//! The outbox worker: claims due rows, sends them through a [`super::transport::Mailer`], marks
//! them sent or schedules a retry with exponential backoff and jitter.
