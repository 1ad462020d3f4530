//! DRF's OPTIONS answers for the account views (`SimpleMetadata`), as dj-rest-auth 7.2.0 with
//! allauth gives them (`metadata.json`, recorded from the real views): the view's name and
//! docstring, and its serializer's fields.

use serde_json::Value;
use std::sync::OnceLock;

use crate::http::AppState;

fn recorded(view: &str) -> Value {
    static ALL: OnceLock<Value> = OnceLock::new();
    let all = ALL
        .get_or_init(|| serde_json::from_str(include_str!("metadata.json")).unwrap_or(Value::Null));
    all.get(view).cloned().unwrap_or(Value::Null)
}

macro_rules! views {
    ($($name:ident),* $(,)?) => {
        $(pub fn $name(_: &AppState) -> Value {
            recorded(stringify!($name))
        })*
    };
}

views!(
    register,
    verify_email,
    resend_email,
    login,
    logout,
    user,
    password_change,
    password_reset,
    password_reset_confirm,
    refresh,
);

#[cfg(test)]
mod tests {
    #[test]
    fn every_view_has_its_metadata() {
        let all: serde_json::Value =
            serde_json::from_str(include_str!("metadata.json")).expect("json");
        for view in [
            "register",
            "verify_email",
            "resend_email",
            "login",
            "logout",
            "user",
            "password_change",
            "password_reset",
            "password_reset_confirm",
            "refresh",
        ] {
            assert!(all[view]["name"].is_string(), "{view}");
        }
    }
}
