//! The endpoints, one module or folder per capability: the simplejwt token API, the Auth.js
//! bridge, `/api/me/`, the health checks and the OpenAPI description (`schema`).

pub mod accounts;
pub mod authjs;
pub mod health;
pub mod me;
pub mod schema;
pub mod token_api;
