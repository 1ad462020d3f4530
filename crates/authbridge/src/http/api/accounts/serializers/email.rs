//! Django 5.2's `EmailValidator` (what DRF's `EmailField` runs), without regexes: the same
//! answers, in one bounded pass over at most 320 characters.
//!
//! - the address has an `@`, at most 320 characters (Python's `len`: code points);
//! - the local part (before the last `@`) is a dot-atom or a quoted string (`user_regex`);
//! - the domain is `localhost`, or labels `hostname(.label)*.tld` (`DomainNameValidator`'s
//!   patterns, letters being ASCII or U+00A1..U+FFFF: nothing above the BMP), or an IPv4/IPv6
//!   literal in brackets.
//!
//! The patterns are compiled with `re.IGNORECASE`, under which `[A-Z]` also matches `İ` (U+0130),
//! `ı` (U+0131), `ſ` (U+017F) and the Kelvin sign (U+212A): so do these.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Python's `len(value) > 320` (RFC 3696 §3).
const MAX_LENGTH: usize = 320;

/// Django's `MAX_IPV6_ADDRESS_LENGTH`: longer literals are refused before parsing.
const MAX_IPV6_LENGTH: usize = 39;

/// The non-ASCII characters that `[A-Z]` matches under Python's `re.IGNORECASE`.
fn ignorecase_letter(c: char) -> bool {
    matches!(c, '\u{130}' | '\u{131}' | '\u{17f}' | '\u{212a}')
}

pub fn is_valid_email(value: &str) -> bool {
    if value.is_empty() || value.chars().count() > MAX_LENGTH {
        return false;
    }
    let Some((user, domain)) = value.rsplit_once('@') else {
        return false;
    };
    valid_user_part(user) && (domain == "localhost" || valid_domain_part(domain))
}

/// `[-!#$%&'*+/=?^_`{}|~0-9A-Z]` (case-insensitive).
fn atom_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-!#$%&'*+/=?^_`{}|~".contains(c) || ignorecase_letter(c)
}

fn valid_user_part(user: &str) -> bool {
    if let Some(inner) = user.strip_prefix('"') {
        return inner.strip_suffix('"').is_some_and(valid_quoted);
    }
    !user.is_empty()
        && user
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atom_char))
}

/// The inside of `"…"`: `[\001-\010\013\014\016-\037!#-\[\]-\177]` or a backslash pair
/// `\\[\001-\011\013\014\016-\177]`.
fn valid_quoted(inner: &str) -> bool {
    let plain = |c: char| {
        matches!(c, '\u{1}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '!' | '#'..='[' | ']'..='\u{7f}')
            || ignorecase_letter(c)
    };
    let escaped = |c: char| {
        matches!(c, '\u{1}'..='\u{9}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{7f}')
            || ignorecase_letter(c)
    };
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            // A backslash followed by an allowed character is a pair; a lone trailing one is
            // itself a plain character only if the class allowed it (it does not: 0x5c is
            // excluded), so the string fails.
            match chars.next() {
                Some(next) if escaped(next) => continue,
                _ => return false,
            }
        }
        if !plain(c) {
            return false;
        }
    }
    true
}

/// `[a-z\u00a1-\uffff0-9]` (case-insensitive): a domain letter or digit.
fn host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('\u{a1}'..='\u{ffff}').contains(&c)
}

/// `hostname_re` and `domain_re`'s labels: 1..=63 characters of letters, digits and hyphens,
/// neither starting nor ending with a hyphen.
fn valid_label(label: &str) -> bool {
    let count = label.chars().count();
    (1..=63).contains(&count)
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| host_char(c) || c == '-')
}

/// `tld_no_fqdn_re`: `(?!-)(?:[a-z\u00a1-\uffff-]{2,63}|xn--[a-z0-9]{1,59})(?<!-)`.
fn valid_tld(label: &str) -> bool {
    if label.starts_with('-') || label.ends_with('-') {
        return false;
    }
    let count = label.chars().count();
    let letters = (2..=63).contains(&count)
        && label
            .chars()
            .all(|c| c.is_ascii_alphabetic() || ('\u{a1}'..='\u{ffff}').contains(&c) || c == '-');
    let punycode = label
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
        && label.get(4..).is_some_and(|rest| {
            (1..=59).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_alphanumeric())
        });
    letters || punycode
}

fn valid_domain_part(domain: &str) -> bool {
    if let Some(rest) = domain.strip_prefix('[') {
        return rest.strip_suffix(']').is_some_and(valid_literal);
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, hosts)) = labels.split_last() else {
        return false;
    };
    !hosts.is_empty() && hosts.iter().all(|l| valid_label(l)) && valid_tld(tld)
}

/// `\[([A-F0-9:.]+)\]` (case-insensitive), then `validate_ipv46_address`.
fn valid_literal(ip: &str) -> bool {
    if ip.is_empty()
        || !ip
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    {
        return false;
    }
    ip.parse::<Ipv4Addr>().is_ok()
        || (ip.len() <= MAX_IPV6_LENGTH && ip.parse::<Ipv6Addr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        assert!(is_valid_email("alice@example.com"));
        assert!(is_valid_email("a@localhost"));
        assert!(!is_valid_email("a@LOCALHOST"));
        assert!(!is_valid_email("not-an-email"));
        assert!(is_valid_email("\"a\\\"b\"@b.com"));
        assert!(!is_valid_email("\"a\\"));
        assert!(is_valid_email("\u{212a}@b.com"));
        assert!(!is_valid_email("é@b.com"));
        assert!(is_valid_email("a@bé.com"));
        assert!(!is_valid_email("a@😀.com"));
    }
}
