//! What a handler learns from a request's headers: who the caller is (a simplejwt access token,
//! an Auth.js session, the service token), where it came from (the client address), and the
//! cookie and Bearer parsers they share.

mod authjs_session;
mod bearer;
mod client_ip;
mod cookies;
mod jwt;
mod service_token;

pub use authjs_session::{AuthJsSession, COOKIE_NAMES as AUTHJS_COOKIE_NAMES};
pub use bearer::bearer_token;
pub use client_ip::ClientIp;
pub use cookies::{cookie_pairs, cookie_value};
pub use jwt::{authenticate, JwtUser};
pub use service_token::check_service_token;
