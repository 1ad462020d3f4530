//! The OpenID Connect provider's back-channel endpoints, black-box: discovery and JWKS, the token
//! endpoint's grants and refusals, userinfo, revocation and introspection, on every backend.

mod api_refresh;
