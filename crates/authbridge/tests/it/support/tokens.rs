//! Tokens minted here with an independent HMAC, so the server's own encoder is not trusted to
//! test its decoder; and a token's parts decoded. A token with a past `exp` stands for "time has
//! passed" without waiting for it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use super::SECRET;

/// `header.payload.signature` with HS256 under `key`, header and payload taken verbatim.
pub fn sign_with_key(header: &str, payload: &str, key: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("hmac key");
    mac.update(message.as_bytes());
    format!(
        "{message}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// [`sign_with_key`] with a text key.
pub fn sign(header: &str, payload: &str, key: &str) -> String {
    sign_with_key(header, payload, key.as_bytes())
}

/// An HS256 token with the test server's key (`SECRET`, simplejwt's default `SIGNING_KEY`).
pub fn mint(payload: Value) -> String {
    sign(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &payload.to_string(),
        SECRET,
    )
}

/// Now, in seconds since the epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// simplejwt's claims for a token of `token_type` issued `age` seconds ago with `lifetime`
/// seconds to live (so `age > lifetime` is a token that has already expired).
pub fn claims_aged(token_type: &str, user_id: Value, age: i64, lifetime: i64) -> Value {
    let iat = now() - age;
    json!({
        "token_type": token_type,
        "exp": iat + lifetime,
        "iat": iat,
        "jti": uuid::Uuid::new_v4().simple().to_string(),
        "user_id": user_id,
    })
}

/// A part of a token (0 header, 1 payload), decoded to text.
pub fn decode_part(token: &str, i: usize) -> String {
    let part = token.split('.').nth(i).expect("part");
    String::from_utf8(URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("utf8")
}

/// A token's header, as JSON.
pub fn header_of(token: &str) -> Value {
    serde_json::from_str(&decode_part(token, 0)).expect("json header")
}

/// A token's claims, as JSON.
pub fn claims_of(token: &str) -> Value {
    serde_json::from_str(&decode_part(token, 1)).expect("json claims")
}
