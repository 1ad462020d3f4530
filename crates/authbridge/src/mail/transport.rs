//! How an email leaves: the [`Mailer`] trait and its transports, chosen by `EMAIL_BACKEND`: SMTP
//! with Django's settings (lettre over rustls; `EMAIL_USE_TLS` is STARTTLS, `EMAIL_USE_SSL`
//! implicit TLS, both verifying the server's certificate against the web PKI roots), or the
//! console (the message printed to standard output, for development).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::{MailError, OutgoingEmail};
use crate::config::{EmailBackend, EmailSettings};

/// Sends one email. An `Err` means "not delivered, try again later"; its text is kept in the
/// outbox, so it never holds the body or a secret.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn deliver(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}

/// The transport `EMAIL_BACKEND` names, built (and its settings checked) at start-up.
pub fn from_settings(settings: &EmailSettings) -> Result<Arc<dyn Mailer>, MailError> {
    Ok(match settings.backend {
        EmailBackend::Smtp => Arc::new(SmtpMailer::new(settings)?),
        EmailBackend::Console => Arc::new(ConsoleMailer),
    })
}

/// The MIME message: `text/plain; charset=utf-8` as Django sends allauth's emails, or
/// `multipart/alternative` with the HTML part when there is one. Addresses are parsed again by
/// lettre, which refuses anything that would break a header.
pub fn message(email: &OutgoingEmail) -> Result<Message, MailError> {
    let mailbox = |text: &str| {
        text.parse::<Mailbox>()
            .map_err(|e| MailError::InvalidAddress(e.to_string()))
    };
    let builder = Message::builder()
        .from(mailbox(&email.from)?)
        .to(mailbox(&email.to)?)
        .subject(super::one_line_subject(&email.subject));
    // The SMTP client ends DATA with CRLF . CRLF, which ends the body's last line: the body's own
    // final line break would add an empty line (Django's smtplib adds one only when missing).
    let text = email
        .text
        .strip_suffix('\n')
        .unwrap_or(&email.text)
        .to_string();
    let built = match &email.html {
        None => builder.header(ContentType::TEXT_PLAIN).body(text),
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            text,
            html.strip_suffix('\n').unwrap_or(html).to_string(),
        )),
    };
    built.map_err(|e| MailError::InvalidAddress(e.to_string()))
}

/// SMTP with Django's settings.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    pub fn new(settings: &EmailSettings) -> Result<Self, MailError> {
        if settings.use_tls && settings.use_ssl {
            return Err(MailError::Config(
                "EMAIL_USE_TLS/EMAIL_USE_SSL are mutually exclusive".into(),
            ));
        }
        let tls = |wrap: fn(TlsParameters) -> Tls| {
            TlsParameters::new(settings.host.clone())
                .map(wrap)
                .map_err(|e| MailError::Config(format!("TLS for {}: {e}", settings.host)))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .timeout(Some(Duration::from_secs(settings.timeout_secs)))
            .tls(if settings.use_ssl {
                tls(Tls::Wrapper)?
            } else if settings.use_tls {
                tls(Tls::Required)?
            } else {
                Tls::None
            });
        // As Django: log in only when both a user and a password are set.
        if let (false, Some(password)) = (settings.user.is_empty(), &settings.password) {
            builder = builder.credentials(Credentials::new(
                settings.user.clone(),
                password.expose_secret().to_string(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn deliver(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let message = message(email)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Transport(format!("SMTP: {e}")))
    }
}

/// Django's console backend: each message, then a line of dashes, on standard output.
pub struct ConsoleMailer;

#[async_trait]
impl Mailer for ConsoleMailer {
    async fn deliver(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        use std::io::Write;
        let mut bytes = message(email)?.formatted();
        bytes.extend_from_slice(b"\n");
        bytes.extend_from_slice(&[b'-'; 79]);
        bytes.extend_from_slice(b"\n");
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)
            .and_then(|()| out.flush())
            .map_err(|e| MailError::Transport(format!("console: {e}")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mail::EmailTemplate;

    fn email(html: Option<&str>) -> OutgoingEmail {
        OutgoingEmail {
            to: "alice@example.com".into(),
            from: "Example <noreply@example.com>".into(),
            subject: "[example.com] Password Reset Email".into(),
            text: "Hello from example.com!\n".into(),
            html: html.map(str::to_string),
            template: EmailTemplate::PasswordResetKey,
        }
    }

    #[test]
    fn plain_text_is_one_part_as_django_sends_it() {
        let raw = String::from_utf8(message(&email(None)).unwrap().formatted()).unwrap();
        assert!(raw.contains("To: alice@example.com\r\n"), "{raw}");
        assert!(
            raw.contains("From: Example <noreply@example.com>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("Subject: [example.com] Password Reset Email\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8\r\n"),
            "{raw}"
        );
        assert!(!raw.contains("multipart"), "{raw}");
    }

    #[test]
    fn html_makes_it_multipart_alternative() {
        let raw =
            String::from_utf8(message(&email(Some("<p>Hi</p>\n"))).unwrap().formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain"), "{raw}");
        assert!(raw.contains("text/html"), "{raw}");
    }

    #[test]
    fn a_header_break_smuggled_into_a_stored_row_is_refused_or_flattened() {
        let mut bad = email(None);
        bad.to = "alice@example.com\r\nBcc: eve@example.com".into();
        assert!(matches!(message(&bad), Err(MailError::InvalidAddress(_))));
        let mut bad = email(None);
        bad.subject = "Hi\r\nBcc: eve@example.com".into();
        let raw = String::from_utf8(message(&bad).unwrap().formatted()).unwrap();
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
    }

    #[test]
    fn tls_and_ssl_together_are_a_config_error() {
        let settings = EmailSettings {
            use_tls: true,
            use_ssl: true,
            ..EmailSettings::default()
        };
        assert!(matches!(
            SmtpMailer::new(&settings),
            Err(MailError::Config(_))
        ));
    }
}
