//! A rendered email, as the outbox keeps it and a transport sends it. Pure: no I/O.

use super::{EmailTemplate, MailError};

/// The longest address accepted (RFC 5321's path limit).
pub const MAX_ADDRESS_LEN: usize = 254;

/// One email ready to send: addresses checked, subject on one line, bodies rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub from: String,
    pub subject: String,
    /// The plain-text body (always present, as allauth's `_message.txt`).
    pub text: String,
    /// The HTML alternative, when an `_message.html` template exists (multipart/alternative).
    pub html: Option<String>,
    pub template: EmailTemplate,
}

/// Checks an address before it goes into a `To:` or `From:` header: one `@` with text on both
/// sides, no whitespace or control characters (a line break would start a new header), no
/// brackets or commas (one mailbox, no display name), at most 254 bytes.
pub fn check_address(address: &str) -> Result<(), MailError> {
    let refuse = |why: &str| Err(MailError::InvalidAddress(why.to_string()));
    if address.is_empty() || address.len() > MAX_ADDRESS_LEN {
        return refuse("empty or longer than 254 bytes");
    }
    if address
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"'))
    {
        return refuse("a space, line break, control character or separator");
    }
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => refuse("not one local part and one domain"),
    }
}

/// Checks `DEFAULT_FROM_EMAIL`: an address, or `Display Name <address>` as Django allows. The
/// display name may not hold a line break, a control character or angle brackets.
pub fn check_mailbox(mailbox: &str) -> Result<(), MailError> {
    match mailbox.strip_suffix('>').and_then(|m| m.rsplit_once('<')) {
        Some((name, address)) => {
            if name
                .chars()
                .any(|c| c.is_control() || matches!(c, '<' | '>'))
            {
                return Err(MailError::InvalidAddress(
                    "a display name with a line break, control character or bracket".into(),
                ));
            }
            check_address(address)
        }
        None => check_address(mailbox),
    }
}

/// A subject on one line, as allauth makes it (`" ".join(subject.splitlines()).strip()`): a line
/// break in a template or in a value cannot start a header of its own.
pub fn one_line_subject(subject: &str) -> String {
    // Python's `str.splitlines` boundaries; `\r\n` is one break.
    let is_break = |c: char| {
        matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        )
    };
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = subject.chars().peekable();
    while let Some(c) = chars.next() {
        if is_break(c) {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            lines.push(std::mem::take(&mut line));
        } else {
            line.push(c);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.join(" ").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_header_breaks_are_refused() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "a@b@c",
            "alice@example.com\r\nBcc: eve@example.com",
            "alice@example.com\nBcc: eve@example.com",
            "Alice <alice@example.com>",
            "alice@example.com, eve@example.com",
            "al ice@example.com",
            "alice@exa\u{0}mple.com",
        ] {
            assert!(check_address(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(check_address(&long).is_err());
        for good in [
            "alice@example.com",
            "a.b+tag@sub.example.org",
            "zoë@exämple.de",
        ] {
            assert!(check_address(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn from_may_carry_a_display_name() {
        assert!(check_mailbox("noreply@example.com").is_ok());
        assert!(check_mailbox("Example Team <noreply@example.com>").is_ok());
        assert!(check_mailbox("Evil\r\nBcc: x@y.z <noreply@example.com>").is_err());
        assert!(check_mailbox("Example <noreply@example.com\n>").is_err());
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(
            one_line_subject("Hello\r\nBcc: eve@example.com\n"),
            "Hello Bcc: eve@example.com"
        );
        assert_eq!(one_line_subject("\n  Please Confirm\n\n"), "Please Confirm");
        // As Python's `" ".join(s.splitlines())`: an empty line between two is one more space.
        assert_eq!(one_line_subject("a\n\nb\r\nc"), "a  b c");
        assert_eq!(one_line_subject("a\u{2028}b"), "a b");
    }
}
