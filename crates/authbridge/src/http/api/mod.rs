//! The endpoints, one module or folder per capability: the simplejwt token API, the Auth.js
//! bridge, `/api/me/` and the health checks.

pub mod authjs;
pub mod health;
pub mod me;
pub mod token_api;
