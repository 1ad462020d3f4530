//! The gateway: authbridge in front of Django (docs/gateway.md). With an upstream configured
//! (`[gateway] UPSTREAM`, `AUTHBRIDGE_UPSTREAM`, `serve --upstream`), every request authbridge's
//! own routes do not answer is authenticated here (`identity`), held to its path's policy
//! (`policy`), stripped of client-sent identity headers, told who the user is and proxied
//! (`proxy`). `GET /auth/check` (`forward_auth`) gives the same answer to a proxy that stays in
//! front instead, and exists with or without an upstream.

mod forward_auth;
mod identity;
mod policy;
mod proxy;

use axum::extract::{ConnectInfo, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;

pub use forward_auth::PATH as CHECK_PATH;
pub use identity::strip_meta_keys;

use crate::config::edge::canonical;
use crate::config::gateway::Policy;
use crate::http::error::GatewayError;
use crate::http::{AppState, DrfError};
use crate::model::User;
use identity::{Found, IdentityConfig};
use policy::{Decision, PolicyTable};
use proxy::Proxy;

/// DRF's `PermissionDenied` default message (`IsAdminUser` refusing a user who is not staff).
const PERMISSION_DENIED: &str = "You do not have permission to perform this action.";

pub struct Gateway {
    identity: IdentityConfig,
    policy: PolicyTable,
    proxy: Option<Proxy>,
    login_url: String,
}

/// Who is asking: a proxied request may be redirected to the login page, a forward-auth check
/// never is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Surface {
    Proxy,
    ForwardAuth,
}

impl Gateway {
    /// Built once by the router (the upstream client's pool lives here).
    pub fn new(state: &AppState) -> Arc<Self> {
        let settings = &state.settings.gateway;
        Arc::new(Self {
            identity: IdentityConfig::new(state, settings),
            policy: PolicyTable::new(settings),
            proxy: settings.upstream.as_ref().map(|upstream| {
                Proxy::new(settings, upstream, state.settings.edge.max_connections)
            }),
            login_url: settings.login_url.clone(),
        })
    }

    /// An upstream is configured: unanswered paths are proxied.
    pub fn proxies(&self) -> bool {
        self.proxy.is_some()
    }

    /// The policy applied to what authentication found: the user to pass on (if any), or the
    /// refusal to answer with.
    fn access(
        &self,
        decision: Decision,
        found: Found,
        parts: &Parts,
        surface: Surface,
    ) -> Result<Option<User>, Refusal> {
        match (decision.policy, found) {
            (Policy::Public, Found::User(user)) => Ok(Some(user)),
            (Policy::Public, Found::Anonymous(_)) => Ok(None),
            (Policy::Staff, Found::User(user)) if !user.is_staff => {
                Err(Refusal::Drf(DrfError::Forbidden(PERMISSION_DENIED.into())))
            }
            (_, Found::User(user)) => Ok(Some(user)),
            (_, Found::Anonymous(refused)) => {
                let browser = matches!(parts.method, Method::GET | Method::HEAD);
                if decision.redirect && browser && surface == Surface::Proxy {
                    return Err(self.login_redirect(parts));
                }
                Err(Refusal::Drf(refused.unwrap_or(DrfError::NotAuthenticated)))
            }
        }
    }

    /// `302` to `LOGIN_URL?next=<the original path and query>`.
    fn login_redirect(&self, parts: &Parts) -> Refusal {
        let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        match HeaderValue::from_str(&format!("{}?next={next}", self.login_url)) {
            Ok(location) => Refusal::Login(location),
            Err(_) => Refusal::Drf(DrfError::NotAuthenticated),
        }
    }
}

/// Why a request is not passed on: simplejwt's or DRF's error, or the login redirect.
enum Refusal {
    Drf(DrfError),
    Login(HeaderValue),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Drf(e) => e.into_response(),
            Self::Login(location) => {
                (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
            }
        }
    }
}

/// `GET /auth/check`.
pub fn routes(gateway: &Arc<Gateway>) -> Router<AppState> {
    forward_auth::routes(gateway.clone())
}

/// The router's fallback when an upstream is configured: everything authbridge does not answer.
pub async fn handle(gateway: Arc<Gateway>, state: AppState, req: Request) -> Response {
    let Some(proxy) = &gateway.proxy else {
        return DrfError::NotFound.into_response();
    };
    let Some(path) = policy::normalize(req.uri().path()) else {
        return GatewayError::BadPath.into_response();
    };
    let decision = gateway.policy.decide(&path);
    let (mut parts, body) = req.into_parts();
    let found = gateway.identity.authenticate(&state, &mut parts).await;
    let user = match gateway.access(decision, found, &parts, Surface::Proxy) {
        Ok(user) => user,
        Err(refusal) => return refusal.into_response(),
    };
    // Hop-by-hop first: a client could name an identity header in `Connection`.
    let prepared = proxy::prepare(&mut parts);
    let trusted_peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| state.settings.edge.is_trusted_proxy(canonical(c.0.ip())));
    proxy::strip_forwarded(&mut parts.headers, trusted_peer);
    gateway.identity.strip(&mut parts.headers);
    if let Some(user) = &user {
        match gateway.identity.identity_headers(&state, user) {
            Ok(headers) => parts.headers.extend(headers),
            Err(e) => return e.into_response(),
        }
    }
    proxy.send(parts, body, prepared).await
}
