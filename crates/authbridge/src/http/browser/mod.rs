//! What only a browser needs: CORS, the CSRF checks, and the cookie mode for single-page apps.

pub mod cookie_mode;
pub mod cors;
pub mod csrf;
