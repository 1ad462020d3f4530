//! The request's cookies, read the way Django's `parse_cookie` and the browsers agree on: every
//! `Cookie` header, split on `;`, names and values trimmed, one pair of surrounding quotes dropped.

use axum::http::{header, HeaderMap};

/// Every `name=value` pair, in the order the browser sent them (the most specific path first).
pub fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            Some((k.trim(), v.trim().trim_matches('"')))
        })
}

/// The first cookie of that name, unless it is empty.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_pairs(headers)
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_support::headers;

    #[test]
    fn cookie_values() {
        let h = headers(&[
            ("cookie", "a=1; refresh=abc.def; b=2"),
            ("cookie", "refresh=later"),
        ]);
        assert_eq!(cookie_value(&h, "refresh").as_deref(), Some("abc.def"));
        assert_eq!(cookie_value(&h, "missing"), None);
        assert_eq!(
            cookie_value(&headers(&[("cookie", "refresh=\"\"")]), "refresh"),
            None
        );
    }

    #[test]
    fn pairs_are_trimmed_and_unquoted() {
        let h = headers(&[("cookie", " a = \"x\" ;b=; novalue; c=d=e")]);
        let pairs: Vec<_> = cookie_pairs(&h).collect();
        assert_eq!(pairs, vec![("a", "x"), ("b", ""), ("c", "d=e")]);
    }
}
