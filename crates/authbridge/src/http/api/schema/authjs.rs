//! The Auth.js bridge: the session endpoints (when an Auth.js secret is set) and the
//! server-to-server sync (when `AUTHBRIDGE_SERVICE_TOKEN` is set).

use serde_json::{json, Value};

use super::Doc;
use super::{
    drf_request, json_content, object, object_requiring, read_only, reference, write_only,
};
use crate::http::AppState;

fn typed(name: &str) -> Value {
    json!({"type": name})
}

pub(super) fn describe(doc: &mut Doc, state: &AppState) {
    let pair = [
        ("refresh", read_only(typed("string"))),
        ("access", read_only(typed("string"))),
        ("user_id", read_only(typed("integer"))),
    ];
    if state.authjs.is_some() {
        doc.security_scheme(
            "authjsSession",
            json!({
                "type": "apiKey",
                "in": "cookie",
                "name": "authjs.session-token",
                "description": "The Auth.js session cookie: v5's `authjs.session-token`, v4's \
                                `next-auth.session-token`, `__Secure-` prefixed on https, chunked \
                                (`.0`, `.1`, …) when large. Cookie-authenticated POSTs pass a CSRF \
                                (Origin) check.",
            }),
        );
        doc.security_scheme(
            "authjsBearer",
            json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWE",
                   "description": "The Auth.js session token itself (a server-side caller)."}),
        );
        let session_auth = json!([{"authjsSession": []}, {"authjsBearer": []}]);
        doc.schema(
            "AuthJsUser",
            object(&[
                ("id", read_only(typed("integer"))),
                ("username", read_only(typed("string"))),
                ("email", read_only(typed("string"))),
                ("is_staff", read_only(typed("boolean"))),
                ("is_superuser", read_only(typed("boolean"))),
            ]),
        );
        doc.schema(
            "AuthJsSession",
            object(&[
                (
                    "session",
                    read_only(json!({
                        "type": "object",
                        "description": "The session's claims a page may see (`sub`, `name`, \
                                        `email`, `picture`, `image`, `iat`, `exp`, `jti`, \
                                        `accessToken`, `accessTokenExpires`, `error`); never \
                                        its refresh tokens.",
                        "additionalProperties": {},
                    })),
                ),
                ("user", reference("AuthJsUser")),
            ]),
        );
        doc.schema("TokenPair", object(&pair));
        doc.path(
            "/api/authjs/session",
            json!({"get": {
                "operationId": "authjs_session_retrieve",
                "description": "The Auth.js session and the Django user it is linked to.",
                "tags": ["authjs"],
                "security": session_auth,
                "responses": {"200": json_content(reference("AuthJsSession"), "")},
            }}),
        );
        doc.path(
            "/api/authjs/token",
            json!({"post": {
                "operationId": "authjs_token_create",
                "description": "A simplejwt pair for the Auth.js session's user, joined to the \
                                session's login (signing the session out ends it too).",
                "tags": ["authjs"],
                "security": session_auth,
                "responses": {"200": json_content(reference("TokenPair"), "")},
            }}),
        );
    }
    if state.settings.service_token.is_some() {
        doc.security_scheme(
            "serviceToken",
            json!({"type": "http", "scheme": "bearer",
                   "description": "AUTHBRIDGE_SERVICE_TOKEN: server-to-server calls only."}),
        );
        let optional_text = || write_only(json!({"type": ["string", "null"]}));
        let fields = [
            ("provider", write_only(typed("string"))),
            ("provider_account_id", write_only(typed("string"))),
            ("email", optional_text()),
            ("email_verified", write_only(typed("boolean"))),
            ("name", optional_text()),
            ("image", optional_text()),
            ("user_id", read_only(typed("integer"))),
            ("access", read_only(typed("string"))),
            ("refresh", read_only(typed("string"))),
            ("created", read_only(typed("boolean"))),
        ];
        let required = [
            "provider",
            "provider_account_id",
            "user_id",
            "access",
            "refresh",
            "created",
        ];
        doc.schema("UserSync", object_requiring(&fields, &required));
        doc.path(
            "/api/users/sync",
            json!({"post": {
                "operationId": "users_sync_create",
                "description": "An OAuth/OIDC sign-in becomes (or finds) a Django user, who gets \
                                a simplejwt pair.",
                "tags": ["users"],
                "security": [{"serviceToken": []}],
                "requestBody": drf_request("UserSync"),
                "responses": {"200": json_content(reference("UserSync"), "")},
            }}),
        );
    }
}
