//! Reading response headers and cookies (`reqwest`'s `HeaderMap` is `http`'s, so these serve the
//! TCP and the in-process client alike).

use http::HeaderMap;

/// A header's value, if present and ASCII.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every `Set-Cookie` line.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(String::from)
        .collect()
}

/// The `Set-Cookie` for a cookie name, and the value it sets.
pub fn set_cookie_for(headers: &HeaderMap, name: &str) -> Option<(String, String)> {
    set_cookies(headers).into_iter().find_map(|c| {
        let value = c
            .split(';')
            .next()?
            .strip_prefix(&format!("{name}="))?
            .to_string();
        Some((c, value))
    })
}
