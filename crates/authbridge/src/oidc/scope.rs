//! Scopes. Values we do not know are dropped, as OpenID Connect Core §3.1.2.1 asks ("SHOULD be
//! ignored"); the granted scope goes back in the token response, so the client sees what it got.

/// The scopes this provider understands. `offline_access` is accepted for clients that send it; a
/// refresh token is issued with every authorization-code grant either way (Auth.js never asks).
pub const SUPPORTED: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// A granted scope: known values, each once, in the order of [`SUPPORTED`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(Vec<&'static str>);

impl Scope {
    /// The known values of a space-separated `scope` parameter (RFC 6749 §3.3).
    pub fn parse(text: &str) -> Self {
        let asked: Vec<&str> = text.split(' ').filter(|s| !s.is_empty()).collect();
        Self(
            SUPPORTED
                .into_iter()
                .filter(|known| asked.contains(known))
                .collect(),
        )
    }

    pub fn contains(&self, value: &str) -> bool {
        self.0.contains(&value)
    }

    pub fn is_openid(&self) -> bool {
        self.contains("openid")
    }

    /// Space-separated, for storage and the token response.
    pub fn as_string(&self) -> String {
        self.0.join(" ")
    }

    /// The values allowed in `self` that `requested` also has (a refresh may narrow, never widen).
    pub fn narrowed_to(&self, requested: &Scope) -> Scope {
        Self(
            self.0
                .iter()
                .copied()
                .filter(|v| requested.contains(v))
                .collect(),
        )
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.iter().all(|v| other.contains(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_drops_unknown_and_repeated_values() {
        let s = Scope::parse("email  openid custom:read email profile");
        assert_eq!(s.as_string(), "openid profile email");
        assert!(s.is_openid() && s.contains("email") && !s.contains("custom:read"));
        assert_eq!(Scope::parse("").as_string(), "");
        assert!(!Scope::parse("profile").is_openid());
        assert_eq!(Scope::parse(&s.as_string()), s);
    }

    #[test]
    fn narrowing() {
        let granted = Scope::parse("openid profile email");
        let asked = Scope::parse("openid email offline_access");
        assert_eq!(granted.narrowed_to(&asked).as_string(), "openid email");
        assert!(Scope::parse("openid").is_subset_of(&granted));
        assert!(!asked.is_subset_of(&granted));
    }
}
