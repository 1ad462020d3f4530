//! The authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1) and its answer.
//!
//! Which errors go where is the point of this module. Until the client and its redirect_uri are
//! known to match a registration, nothing may be sent to the redirect_uri: an unknown client, a
//! missing or unregistered redirect_uri (or a repeated `client_id`/`redirect_uri`) is an error
//! *page* ([`AuthorizeError::Page`]), or the endpoint becomes an open redirector (RFC 6749
//! §4.1.2.1, RFC 9700 §4.11). Every later error goes back to the client
//! ([`AuthorizeError::Redirect`]) with `state` and `iss`.
//!
//! A request without `openid` in its scope is refused (`invalid_scope`): this is a sign-in
//! provider, and a plain-OAuth request here is almost always a misconfigured client that would
//! otherwise fail later, and more obscurely, without an ID token.

use chrono::{DateTime, Duration, Utc};

use super::client::Client;
use super::pkce::CodeChallenge;
use super::{ErrorCode, Scope};

/// Bounds on what a client may make us store and echo.
pub const MAX_STATE_LEN: usize = 2048;
pub const MAX_NONCE_LEN: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("The request has no client_id.")]
    MissingClientId,
    #[error("The application (client_id) is not registered.")]
    UnknownClient,
    #[error("The request has no redirect_uri.")]
    MissingRedirectUri,
    #[error("The redirect_uri is not registered for this application.")]
    UnregisteredRedirectUri,
    #[error("The request repeats the parameter {0}.")]
    Repeated(&'static str),
}

/// An error for the client, delivered on its (verified) redirect_uri.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub error: ErrorCode,
    pub description: &'static str,
    pub state: Option<String>,
}

impl ErrorRedirect {
    /// The `Location`: `error`, `error_description`, `state` (when sent), `iss` (RFC 9207).
    pub fn location(&self, issuer: &str) -> String {
        let mut pairs = vec![
            ("error", self.error.as_str()),
            ("error_description", self.description),
        ];
        if let Some(state) = &self.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        with_query(&self.redirect_uri, &pairs)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    Page(PageError),
    Redirect(ErrorRedirect),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A valid authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Scope,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: Prompt,
    /// Seconds since the last password entry beyond which the user must enter it again.
    pub max_age: Option<i64>,
}

/// The single value of `name`; `Err` when repeated (RFC 6749 §3.1).
fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ()> {
    let mut found = params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = found.next();
    match found.next() {
        Some(_) => Err(()),
        None => Ok(first),
    }
}

/// The `client_id` to look the client up by (before [`validate`]).
pub fn client_id(params: &[(String, String)]) -> Result<&str, PageError> {
    match single(params, "client_id") {
        Err(()) => Err(PageError::Repeated("client_id")),
        Ok(None) | Ok(Some("")) => Err(PageError::MissingClientId),
        Ok(Some(id)) => Ok(id),
    }
}

/// Validate the query of an authorization request against its client (`None`: not found).
pub fn validate(
    params: &[(String, String)],
    client: Option<&Client>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = AuthorizeError::Page;
    let client_id = client_id(params).map_err(page)?;
    let client = client
        .filter(|c| c.client_id == client_id)
        .ok_or(page(PageError::UnknownClient))?;
    let redirect_uri = match single(params, "redirect_uri") {
        Err(()) => return Err(page(PageError::Repeated("redirect_uri"))),
        Ok(None) | Ok(Some("")) => return Err(page(PageError::MissingRedirectUri)),
        Ok(Some(uri)) => client
            .redirect_uri(uri)
            .ok_or(page(PageError::UnregisteredRedirectUri))?
            .as_str()
            .to_string(),
    };

    // From here on the redirect_uri is trusted: errors go back to the client.
    let state = single(params, "state")
        .ok()
        .flatten()
        .filter(|s| !s.is_empty() && s.len() <= MAX_STATE_LEN)
        .map(String::from);
    let fail = |error, description| {
        AuthorizeError::Redirect(ErrorRedirect {
            redirect_uri: redirect_uri.clone(),
            error,
            description,
            state: state.clone(),
        })
    };
    let invalid = |description| fail(ErrorCode::InvalidRequest, description);

    let mut seen = std::collections::HashSet::new();
    if !params.iter().all(|(k, _)| seen.insert(k.as_str())) {
        return Err(invalid("a parameter is repeated"));
    }
    let get = |name| {
        single(params, name)
            .ok()
            .flatten()
            .filter(|v| !v.is_empty())
    };

    match get("response_type") {
        None => return Err(invalid("response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ))
        }
    }
    if get("request").is_some() {
        return Err(fail(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if get("request_uri").is_some() {
        return Err(fail(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    if get("registration").is_some() {
        return Err(fail(
            ErrorCode::RegistrationNotSupported,
            "the registration parameter is not supported",
        ));
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return Err(invalid("only response_mode=query is supported"));
    }
    if single(params, "state")
        .ok()
        .flatten()
        .is_some_and(|s| s.len() > MAX_STATE_LEN)
    {
        return Err(invalid("state is too long"));
    }

    let scope = Scope::parse(get("scope").unwrap_or(""));
    if !scope.is_openid() {
        return Err(fail(ErrorCode::InvalidScope, "scope must include openid"));
    }
    let nonce = get("nonce").map(String::from);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE_LEN) {
        return Err(invalid("nonce is too long"));
    }

    let code_challenge = match get("code_challenge") {
        Some(challenge) => Some(
            CodeChallenge::parse(challenge, get("code_challenge_method"))
                .map_err(|_| invalid("code_challenge must be S256 (plain is not accepted)"))?,
        ),
        None if client.is_public() => {
            return Err(invalid(
                "PKCE (code_challenge, S256) is required for public clients",
            ))
        }
        None if get("code_challenge_method").is_some() => {
            return Err(invalid("code_challenge_method without code_challenge"))
        }
        None => None,
    };

    let mut prompt = Prompt::default();
    for value in get("prompt")
        .unwrap_or("")
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            // One session holds one user: there is no account to select.
            "select_account" => {}
            _ => return Err(invalid("unknown prompt value")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(invalid("prompt=none cannot be combined with other values"));
    }

    let max_age = match get("max_age") {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(secs) if secs >= 0 => Some(secs),
            _ => return Err(invalid("max_age must be a non-negative integer")),
        },
    };

    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scope,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
    })
}

/// The browser's login session, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    /// When the password was last entered.
    pub auth_time: DateTime<Utc>,
}

/// What the endpoint does next with a valid request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Show the login page (and come back).
    Login,
    /// Show the consent screen (and come back).
    Consent,
    /// Issue a code for this user.
    Issue(Session),
    /// `login_required` / `consent_required` for `prompt=none`.
    Error(ErrorRedirect),
}

/// `requested_at`: when this request first arrived (kept across the login round trip), so that
/// `prompt=login` is satisfied by a password entered after it. `consented`: the user already
/// granted this client this scope. First-party clients never ask for consent.
pub fn next_step(
    request: &AuthorizationRequest,
    session: Option<Session>,
    requested_at: DateTime<Utc>,
    consented: bool,
    first_party: bool,
    now: DateTime<Utc>,
) -> Next {
    let error = |error, description| {
        Next::Error(ErrorRedirect {
            redirect_uri: request.redirect_uri.clone(),
            error,
            description,
            state: request.state.clone(),
        })
    };
    // A password entered since this request arrived satisfies both `prompt=login` and any
    // `max_age`: otherwise `max_age=0` (or one shorter than the login took) would send the user
    // back to the login page forever.
    let fresh = |s: &Session| {
        let during_this_request = s.auth_time >= requested_at;
        let too_old = request
            .max_age
            .is_some_and(|max| now - s.auth_time > Duration::seconds(max));
        during_this_request || (!too_old && !request.prompt.login)
    };
    let Some(session) = session.filter(fresh) else {
        return if request.prompt.none {
            error(ErrorCode::LoginRequired, "the user is not signed in")
        } else {
            Next::Login
        };
    };
    if !first_party && (!consented || request.prompt.consent) {
        return if request.prompt.none {
            error(
                ErrorCode::ConsentRequired,
                "the user has not granted this application access",
            )
        } else {
            Next::Consent
        };
    }
    Next::Issue(session)
}

/// The successful answer's `Location`: `code`, `state` (when sent) and `iss` (RFC 9207, which
/// discovery announces, so oauth4webapi requires it).
pub fn success_location(request: &AuthorizationRequest, code: &str, issuer: &str) -> String {
    let mut pairs = vec![("code", code)];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    with_query(&request.redirect_uri, &pairs)
}

/// `uri` with `pairs` appended to its query (a registered URI may carry one of its own).
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", query.finish())
}

#[cfg(test)]
#[path = "authorize_tests.rs"]
mod tests;
