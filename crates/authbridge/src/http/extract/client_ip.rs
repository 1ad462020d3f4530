//! The client's address as handlers see it: the peer address of the TCP connection, or, when the
//! peer is one of the configured trusted proxies, the address it reports in `X-Forwarded-For`.
//! The edge middleware (`http::edge`) inserts a `ClientIp` into every request's extensions, from
//! the peer address `crate::server` records; handlers take it as an extractor. Without one (a
//! request built in-process) it is the unspecified address.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub const UNKNOWN: ClientIp = ClientIp(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp::UNKNOWN))
    }
}
