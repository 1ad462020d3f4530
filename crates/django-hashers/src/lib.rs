//! Django's password hashers. Implemented by a helper; see the crate description.
