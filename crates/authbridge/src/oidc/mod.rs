//! OpenID Connect provider, the pure rules (issue 9): signing keys and their rotation (`keys`),
//! clients and redirect URIs (`client`), client authentication (`client_auth`), PKCE, the
//! authorization request (`authorize`), authorization codes (`code`), grant types and
//! introspection (`grant`), ID-token and userinfo claims (`claims`), RP-initiated logout
//! (`logout`), scopes and the discovery document. No HTTP, no SQL, no clock reads: `now` and the
//! RNG are arguments (the one exception, key generation, is explained in `keys`).
//!
//! Endpoints, relative to the issuer (the paths are [`paths`]; the HTTP layer mounts them):
//! `/.well-known/openid-configuration`, `/oauth2/authorize`, `/oauth2/token`, `/oauth2/userinfo`,
//! `/oauth2/jwks`, `/oauth2/revoke`, `/oauth2/introspect`, `/oauth2/logout` (end_session).

pub mod authorize;
pub mod claims;
pub mod client;
pub mod client_auth;
pub mod code;
pub mod discovery;
pub mod grant;
pub mod keys;
pub mod logout;
pub mod pkce;
pub mod scope;

pub use scope::Scope;

/// Endpoint paths, appended to the issuer.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const AUTHORIZE: &str = "/oauth2/authorize";
    pub const TOKEN: &str = "/oauth2/token";
    pub const USERINFO: &str = "/oauth2/userinfo";
    pub const JWKS: &str = "/oauth2/jwks";
    pub const REVOKE: &str = "/oauth2/revoke";
    pub const INTROSPECT: &str = "/oauth2/introspect";
    pub const END_SESSION: &str = "/oauth2/logout";
}

/// The `error` codes of RFC 6749 §4.1.2.1 and §5.2, OpenID Connect Core §3.1.2.6 and RFC 7009.
/// The HTTP layer renders them (JSON at the token endpoint, query parameters on a redirect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    RegistrationNotSupported,
    UnsupportedTokenType,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::RegistrationNotSupported => "registration_not_supported",
            Self::UnsupportedTokenType => "unsupported_token_type",
        }
    }
}

/// An issuer-relative endpoint URL: the issuer byte for byte, then the path.
pub fn endpoint(issuer: &str, path: &str) -> String {
    format!("{}{path}", issuer.trim_end_matches('/'))
}
