//! Where `/login` sends the browser afterwards: a path on this server only. Anything that a
//! browser could resolve to another origin (`https://evil.test`, `//evil.test`, `/\evil.test`,
//! `javascript:`, control characters that browsers strip) is ignored, or the login page would
//! be an open redirector.

/// `next` if it is a same-origin relative path (with its query), else `None`.
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    let next = next?;
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 8192
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_server() {
        for ok in [
            "/",
            "/oauth2/authorize?client_id=a&redirect_uri=https%3A%2F%2Fx",
            "/consent",
        ] {
            assert_eq!(safe_next(Some(ok)), Some(ok));
        }
        for bad in [
            "https://evil.test",
            "//evil.test",
            "///evil.test",
            "/\\evil.test",
            "/x\\y",
            "\\\\evil.test",
            "javascript:alert(1)",
            "evil.test",
            "/\t/evil.test",
            "/ /evil.test",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(safe_next(None), None);
    }
}
