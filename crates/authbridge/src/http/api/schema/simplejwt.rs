//! simplejwt's views, our two logout views, the JWKS and `/api/me/`, in drf-spectacular's shapes
//! (its `contrib/rest_framework_simplejwt` extensions): the same component names, fields and
//! flags, which follow the settings as they do in Django (`USERNAME_FIELD` names the login field,
//! `ROTATE_REFRESH_TOKENS` makes the refresh field readable, `AUTH_HEADER_*` shape `jwtAuth`).
//! One addition: `POST /api/token/` also answers `user_id` (docs/compatibility.md). In cookie
//! mode `refresh` is optional, as dj-rest-auth describes it.

use serde_json::{json, Value};

use super::{
    drf_request, json_content, jwks_schema, object, object_requiring, read_only, reference,
    write_only, Doc,
};
use crate::config::SimpleJwt;
use crate::http::api::token_api::{blacklist, logout, obtain, refresh, verify};
use crate::http::AppState;

fn string() -> Value {
    json!({"type": "string"})
}

pub(super) fn describe(doc: &mut Doc, state: &AppState) {
    let settings = &state.settings;
    doc.security_scheme("jwtAuth", jwt_auth(&settings.simple_jwt));
    let refresh_field = if settings.simple_jwt.rotate_refresh_tokens {
        string()
    } else {
        write_only(string())
    };
    // Cookie mode (dj-rest-auth's settings): a request may leave the refresh token to its
    // cookie, and with JWT_AUTH_HTTPONLY the answers keep it out of the body, so `refresh` is
    // optional there, as in dj-rest-auth's cookie serializers.
    let cookie = settings.cookies.refresh_cookie_name();
    let token_object = |fields: &[(&str, Value)]| {
        let Some(name) = &cookie else {
            return object(fields);
        };
        let note = format!("In cookie mode, also the `{name}` cookie.");
        let fields: Vec<(&str, Value)> = fields
            .iter()
            .map(|(field, schema)| {
                let mut schema = schema.clone();
                if *field == "refresh" {
                    schema["description"] = json!(note);
                }
                (*field, schema)
            })
            .collect();
        let required: Vec<&str> = fields
            .iter()
            .map(|(field, _)| *field)
            .filter(|field| *field != "refresh")
            .collect();
        object_requiring(&fields, &required)
    };
    doc.schema(
        "TokenObtainPair",
        token_object(&[
            (settings.username_field.as_str(), write_only(string())),
            ("password", write_only(string())),
            ("access", read_only(string())),
            ("refresh", read_only(string())),
            ("user_id", read_only(json!({"type": "integer"}))),
        ]),
    );
    doc.schema(
        "TokenRefresh",
        token_object(&[("access", read_only(string())), ("refresh", refresh_field)]),
    );
    doc.schema("TokenVerify", object(&[("token", write_only(string()))]));
    doc.schema(
        "TokenBlacklist",
        token_object(&[("refresh", write_only(string()))]),
    );
    doc.schema(
        "TokenLogout",
        token_object(&[("refresh", write_only(string()))]),
    );
    doc.schema(
        "Me",
        object(&[
            ("id", read_only(json!({"type": "integer"}))),
            ("username", read_only(string())),
            ("email", read_only(string())),
            ("is_staff", read_only(json!({"type": "boolean"}))),
        ]),
    );

    let post = |id: &str, description: Value, component: &str| {
        json!({"post": {
            "operationId": id,
            "description": description,
            "tags": ["token"],
            "requestBody": drf_request(component),
            "responses": {"200": json_content(reference(component), "")},
        }})
    };
    let described = |metadata: Value| metadata["description"].clone();
    doc.path(
        "/api/token/",
        post(
            "token_create",
            described(obtain::metadata(state)),
            "TokenObtainPair",
        ),
    );
    doc.path(
        "/api/token/refresh/",
        post(
            "token_refresh_create",
            described(refresh::metadata(state)),
            "TokenRefresh",
        ),
    );
    doc.path(
        "/api/token/verify/",
        post(
            "token_verify_create",
            described(verify::metadata(state)),
            "TokenVerify",
        ),
    );
    doc.path(
        "/api/token/blacklist/",
        post(
            "token_blacklist_create",
            described(blacklist::metadata(state)),
            "TokenBlacklist",
        ),
    );
    doc.path(
        "/api/token/logout/",
        post(
            "token_logout_create",
            described(logout::logout_metadata(state)),
            "TokenLogout",
        ),
    );
    doc.path(
        "/api/token/logout-all/",
        json!({"post": {
            "operationId": "token_logout_all_create",
            "description": described(logout::logout_all_metadata(state)),
            "tags": ["token"],
            "security": [{"jwtAuth": []}],
            "responses": {"200": json_content(json!({"type": "object"}), "`{}`")},
        }}),
    );
    if state.tokens.keys.jwks().is_some() {
        doc.schema("JWKS", jwks_schema());
        doc.path(
            "/api/token/jwks/",
            json!({"get": {
                "operationId": "token_jwks_retrieve",
                "description": "The public key of the asymmetric SIMPLE_JWT_ALGORITHM, for \
                                simplejwt's JWK_URL.",
                "tags": ["token"],
                "responses": {"200": json_content(reference("JWKS"), "")},
            }}),
        );
    }
    doc.path(
        "/api/me/",
        json!({"get": {
            "operationId": "me_retrieve",
            "tags": ["me"],
            "security": [{"jwtAuth": []}],
            "responses": {"200": json_content(reference("Me"), "")},
        }}),
    );
}

/// drf-spectacular's `SimpleJWTScheme`: HTTP bearer when simplejwt reads `Authorization: Bearer`,
/// otherwise an API key in the configured header, named as Django's `HTTP_X_Y` meta key becomes
/// `X-y` (Python's `str.capitalize`), with the required prefix in the description.
fn jwt_auth(simple_jwt: &SimpleJwt) -> Value {
    let raw = &simple_jwt.auth_header_name;
    let header = raw.strip_prefix("HTTP_").unwrap_or(raw).replace('_', "-");
    let mut chars = header.chars();
    let header: String = chars
        .next()
        .map(|first| {
            first
                .to_uppercase()
                .chain(chars.flat_map(char::to_lowercase))
                .collect()
        })
        .unwrap_or_default();
    let prefix = simple_jwt
        .auth_header_types
        .first()
        .map_or("Bearer", String::as_str);
    if prefix == "Bearer" && header == "Authorization" {
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    } else {
        json!({
            "type": "apiKey",
            "in": "header",
            "name": header,
            "description": format!("Token-based authentication with required prefix \"{prefix}\""),
        })
    }
}
