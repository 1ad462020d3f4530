//! The OpenID Connect provider's endpoints (`oidc::paths`).

pub mod authorize;
pub mod end_session;
