//! Django's base 36 (`django.utils.http`): the reset token's timestamp and, through allauth's
//! `user_pk_to_url_str`, the uid of a reset link (pk 43 is `17`).

/// `int_to_base36`: lower-case digits, `0` for zero.
pub fn encode(mut n: u128) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `base36_to_int`: refuses more than 13 characters ("Base36 input too large"), then reads the
/// text as Python's `int(s, 36)` does: surrounding whitespace, an optional sign, digits in either
/// case with single underscores between them. (Python also takes non-ASCII decimal digits; those
/// are refused here.)
pub fn decode(s: &str) -> Option<i128> {
    if s.chars().count() > 13 {
        return None;
    }
    let t = s.trim_matches(char::is_whitespace);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    let mut value: i128 = 0;
    let mut underscore = false;
    for c in digits.chars() {
        if c == '_' {
            if underscore {
                return None;
            }
            underscore = true;
            continue;
        }
        underscore = false;
        let d = c.to_digit(36)?;
        value = value * 36 + i128::from(d);
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_values() {
        assert_eq!(encode(0), "0");
        assert_eq!(encode(1), "1");
        assert_eq!(encode(43), "17");
        assert_eq!(encode(35), "z");
        assert_eq!(encode(36), "10");
        assert_eq!(decode("17"), Some(43));
        assert_eq!(decode("Z"), Some(35));
        assert_eq!(decode(" 1_0 "), Some(36));
        assert_eq!(decode("-1"), Some(-1));
        assert_eq!(decode("+z"), Some(35));
        assert_eq!(decode("zzzzzzzzzzzzz"), Some(170_581_728_179_578_208_255));
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            " ",
            "-",
            "1__0",
            "_1",
            "1_",
            "MQ=",
            "a.b",
            "zzzzzzzzzzzzzz",
            "١",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn round_trip() {
        for n in [0u128, 1, 42, 36u128.pow(6), u128::from(u64::MAX)] {
            assert_eq!(decode(&encode(n)).map(|v| v as u128), Some(n));
        }
    }
}
