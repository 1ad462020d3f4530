//! simplejwt's exact error bodies, as its recorded wire probe shows them
//! (`../shared/reference/django/wire_probe.md`), for tests that compare bodies byte for byte.

pub const INVALID: &str = r#"{"detail":"Token is invalid","code":"token_not_valid"}"#;
pub const EXPIRED: &str = r#"{"detail":"Token is expired","code":"token_not_valid"}"#;
pub const BLACKLISTED: &str = r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#;
pub const WRONG_TYPE: &str = r#"{"detail":"Token has wrong type","code":"token_not_valid"}"#;
pub const NO_ACCOUNT: &str = r#"{"detail":"No active account found with the given credentials"}"#;
