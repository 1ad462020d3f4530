//! Which policy a path has: the first `[[gateway.paths]]` entry that matches, else
//! `DEFAULT_POLICY`. Paths are matched as Django will route them: percent-decoded (WSGI's
//! `PATH_INFO` is, `%2F` included), case-sensitive; a path with `.` or `..` segments (after
//! decoding) is refused, since what it names depends on who normalises it.

use crate::config::gateway::{GatewaySettings, PathRule, Policy};

/// What the gateway requires of a request to this path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub policy: Policy,
    /// Send a browser that is not signed in to the login page instead of a 401.
    pub redirect: bool,
}

#[derive(Debug)]
enum Matcher {
    Prefix(String),
    /// The pattern's segments (split on `/`).
    Glob(Vec<String>),
}

#[derive(Debug)]
pub struct PolicyTable {
    rules: Vec<(Matcher, Decision)>,
    default: Decision,
}

/// The request path as Django sees it, or `None` when it must be refused.
pub fn normalize(raw: &str) -> Option<String> {
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(raw).collect();
    let path = String::from_utf8_lossy(&bytes);
    if !path.starts_with('/') || path.contains('\0') {
        return None;
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return None;
    }
    Some(path.into_owned())
}

impl PolicyTable {
    pub fn new(settings: &GatewaySettings) -> Self {
        let rules = settings
            .paths
            .iter()
            .map(|rule: &PathRule| {
                let matcher = match (&rule.prefix, &rule.glob) {
                    (Some(prefix), _) => Matcher::Prefix(prefix.clone()),
                    (None, Some(glob)) => {
                        Matcher::Glob(glob.split('/').map(str::to_string).collect())
                    }
                    // Refused by the section's rules; matches nothing.
                    (None, None) => Matcher::Glob(vec!["\0".into()]),
                };
                let decision = Decision {
                    policy: rule.policy,
                    redirect: rule.redirect,
                };
                (matcher, decision)
            })
            .collect();
        Self {
            rules,
            default: Decision {
                policy: settings.default_policy,
                redirect: false,
            },
        }
    }

    /// The decision for a normalised path (see [`normalize`]).
    pub fn decide(&self, path: &str) -> Decision {
        for (matcher, decision) in &self.rules {
            let hit = match matcher {
                Matcher::Prefix(p) => path.starts_with(p.as_str()),
                Matcher::Glob(segments) => glob_match(segments, path),
            };
            if hit {
                return *decision;
            }
        }
        self.default
    }
}

/// `**` (a whole segment) matches any number of segments, none included; within a segment `*`
/// matches any run of characters and `?` one character. Greedy with backtracking to the last
/// star, so linear in practice and at worst the product of the two lengths.
fn glob_match(pattern: &[String], path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    let (mut p, mut s) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while s < segments.len() {
        if p < pattern.len() && pattern[p] == "**" {
            star = Some((p, s));
            p += 1;
        } else if p < pattern.len() && segment_match(pattern[p].as_bytes(), segments[s].as_bytes())
        {
            p += 1;
            s += 1;
        } else if let Some((sp, ss)) = star {
            p = sp + 1;
            s = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|rest| rest == "**")
}

fn segment_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn glob(pattern: &str, path: &str) -> bool {
        let segments: Vec<String> = pattern.split('/').map(str::to_string).collect();
        glob_match(&segments, path)
    }

    #[test]
    fn globs() {
        let cases = [
            ("/api/*/admin", "/api/v1/admin", true),
            ("/api/*/admin", "/api/v1/v2/admin", false),
            ("/api/**", "/api", true),
            ("/api/**", "/api/", true),
            ("/api/**", "/api/a/b/c", true),
            ("/api/**", "/apix/a", false),
            ("/**/private/*", "/a/b/private/x", true),
            ("/**/private/*", "/private/x", true),
            ("/**/private/*", "/a/private/x/y", false),
            ("/files/*.pdf", "/files/report.pdf", true),
            ("/files/*.pdf", "/files/report.pdf.exe", false),
            ("/files/*.pdf", "/files/sub/report.pdf", false),
            ("/u/?", "/u/a", true),
            ("/u/?", "/u/ab", false),
            ("/a/**/b/**/c", "/a/x/b/y/z/c", true),
            ("/a/**/b/**/c", "/a/x/y/z/c", false),
            ("/Admin/**", "/admin/x", false),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(glob(pattern, path), expected, "{pattern} on {path}");
        }
    }

    #[test]
    fn normalisation_is_djangos() {
        assert_eq!(normalize("/%61dmin/").as_deref(), Some("/admin/"));
        assert_eq!(normalize("/a%2Fb").as_deref(), Some("/a/b"));
        assert_eq!(normalize("/a/b").as_deref(), Some("/a/b"));
        for bad in [
            "/a/../admin/",
            "/a/./b",
            "/%2e%2e/admin",
            "/x/..",
            "/a%00b",
            "a",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    #[test]
    fn first_match_wins_then_the_default() {
        let env = [(
            "AUTHBRIDGE_GATEWAY_paths",
            r#"[{"prefix": "/admin/login/", "policy": "public"},
                {"prefix": "/admin/", "policy": "staff", "redirect": true},
                {"glob": "/api/*/me/**"}]"#,
        )];
        let s = Settings::load(
            None,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .expect("settings");
        let table = PolicyTable::new(&s.gateway);
        let d = |p: &str| table.decide(p);
        assert_eq!(d("/admin/login/").policy, Policy::Public);
        assert_eq!(
            d("/admin/users/"),
            Decision {
                policy: Policy::Staff,
                redirect: true
            }
        );
        assert_eq!(d("/api/v2/me/").policy, Policy::Authenticated);
        assert!(!d("/api/v2/me/").redirect);
        assert_eq!(d("/api/v2/you/").policy, Policy::Public);
        assert_eq!(d("/").policy, Policy::Public);
        // `/admin/` by prefix does not cover `/administrator`: prefixes are plain text.
        assert_eq!(d("/administrator").policy, Policy::Public);
    }
}
