//! What a handler learns from a request's headers: who the caller is (a simplejwt access token,
//! an Auth.js session, the service token) and where it came from (the client address).

mod client_ip;
mod jwt;

pub use client_ip::ClientIp;
pub use jwt::{authenticate, JwtUser};
