//! What only a browser needs: CORS, the CSRF checks (`csrf`: Origin / Sec-Fetch-Site;
//! `csrf_token`: Django's double-submit token), and the cookie mode for single-page apps
//! (`cookie_mode`: where the refresh token comes from and which cookies an answer sets, written
//! by `set_cookie`).

pub mod cookie_mode;
pub mod cors;
pub mod csrf;
mod csrf_token;
mod set_cookie;
