//! The Auth.js session-cookie JWE profile.
