//! The OpenID Connect provider (`AUTHBRIDGE_OIDC_ENABLED`): discovery, the authorization code
//! flow with PKCE, userinfo, keys, revocation, introspection and RP-initiated logout. Its errors
//! are RFC 6749's JSON (`OAuthError`), or a redirect to the client carrying them.
//! To describe a new provider endpoint, add its path here.

use serde_json::{json, Value};

use super::{json_content, jwks_schema, object_requiring, reference, Doc};
use crate::oidc::{paths, scope};

fn string() -> Value {
    json!({"type": "string"})
}

/// A browser-facing endpoint (authorize, end session): its parameters in the query string
/// (GET) or as a form (POST), the same answers either way.
fn browser_endpoint(id: &str, params: &[(&str, bool, &str)], responses: Value) -> Value {
    let query: Vec<Value> = params
        .iter()
        .map(|(name, required, description)| {
            json!({"name": name, "in": "query", "required": required, "schema": string(),
                   "description": description})
        })
        .collect();
    let fields: Vec<(String, Value)> = params
        .iter()
        .map(|(name, _, description)| {
            let schema = json!({"type": "string", "description": description});
            ((*name).to_string(), schema)
        })
        .collect();
    let required: Vec<&str> = params
        .iter()
        .filter(|(_, required, _)| *required)
        .map(|(name, _, _)| *name)
        .collect();
    let body = json!({"content": {"application/x-www-form-urlencoded": {
        "schema": object(&fields, &required),
    }}, "required": true});
    json!({
        "get": {"operationId": format!("{id}_retrieve"), "tags": ["oidc"],
                "parameters": query, "responses": responses},
        "post": {"operationId": format!("{id}_create"), "tags": ["oidc"],
                 "requestBody": body, "responses": responses},
    })
}

/// A form body (`application/x-www-form-urlencoded`), as RFC 6749 requires.
fn form(component: &str) -> Value {
    json!({"content": {"application/x-www-form-urlencoded": {"schema": reference(component)}},
           "required": true})
}

fn oauth_error(description: &str) -> Value {
    json_content(reference("OAuthError"), description)
}

fn redirect(description: &str) -> Value {
    json!({"description": description,
           "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}}})
}

fn page(description: &str) -> Value {
    json!({"description": description, "content": {"text/html": {"schema": string()}}})
}

pub(super) fn describe(doc: &mut Doc) {
    doc.security_scheme(
        "clientSecretBasic",
        json!({"type": "http", "scheme": "basic",
               "description": "A confidential client's id and secret (client_secret_basic); \
                               client_secret_post sends them in the form instead."}),
    );
    doc.security_scheme(
        "oauth2AccessToken",
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "An access token the provider issued to a client."}),
    );
    let client_auth = json!([{"clientSecretBasic": []}, {}]);
    components(doc);

    doc.path(
        paths::DISCOVERY,
        json!({"get": {
            "operationId": "openid_configuration_retrieve",
            "tags": ["oidc"],
            "responses": {"200": json_content(reference("OpenIdConfiguration"), "")},
        }}),
    );
    let scopes = format!(
        "space-separated, with `openid`: {}",
        scope::SUPPORTED.join(", ")
    );
    let authorize = [
        ("response_type", true, "`code`"),
        ("client_id", true, ""),
        ("redirect_uri", true, "one of the client's, byte for byte"),
        ("scope", true, scopes.as_str()),
        ("state", false, ""),
        ("nonce", false, ""),
        (
            "code_challenge",
            false,
            "PKCE S256; required for public clients",
        ),
        ("code_challenge_method", false, "`S256`"),
        (
            "prompt",
            false,
            "`none`, `login`, `consent` or `select_account`",
        ),
    ];
    let answers = json!({
        "302": redirect("to the client's redirect_uri with `code` and `state` (or `error`), \
                         or to the login page"),
        "200": page("the login or consent page"),
        "400": page("an unknown client or redirect_uri: shown, never redirected to"),
    });
    doc.path(
        paths::AUTHORIZE,
        browser_endpoint("oauth2_authorize", &authorize, answers),
    );
    doc.path(
        paths::TOKEN,
        json!({"post": {
            "operationId": "oauth2_token_create",
            "tags": ["oidc"],
            "security": client_auth,
            "requestBody": form("OAuthTokenRequest"),
            "responses": {
                "200": json_content(reference("OAuthTokenResponse"), ""),
                "400": oauth_error("invalid_request, invalid_grant, unsupported_grant_type, …"),
                "401": oauth_error("invalid_client"),
            },
        }}),
    );
    let userinfo = |id: &str| {
        json!({
            "operationId": id,
            "tags": ["oidc"],
            "security": [{"oauth2AccessToken": []}],
            "responses": {
                "200": json_content(reference("UserInfo"), ""),
                "401": {"description": "invalid_token (in `WWW-Authenticate`)"},
            },
        })
    };
    doc.path(
        paths::USERINFO,
        json!({
            "get": userinfo("oauth2_userinfo_retrieve"),
            "post": userinfo("oauth2_userinfo_create"),
        }),
    );
    doc.schema("JWKS", jwks_schema());
    doc.path(
        paths::JWKS,
        json!({"get": {
            "operationId": "oauth2_jwks_retrieve",
            "tags": ["oidc"],
            "responses": {"200": json_content(reference("JWKS"), "")},
        }}),
    );
    doc.path(
        paths::REVOKE,
        json!({"post": {
            "operationId": "oauth2_revoke_create",
            "tags": ["oidc"],
            "security": client_auth,
            "requestBody": form("TokenHint"),
            "responses": {
                "200": {"description": "revoked, or unknown (RFC 7009 §2.2)"},
                "401": oauth_error("invalid_client"),
            },
        }}),
    );
    doc.path(
        paths::INTROSPECT,
        json!({"post": {
            "operationId": "oauth2_introspect_create",
            "tags": ["oidc"],
            "security": [{"clientSecretBasic": []}],
            "requestBody": form("TokenHint"),
            "responses": {
                "200": json_content(reference("Introspection"), ""),
                "401": oauth_error("invalid_client"),
            },
        }}),
    );
    let end_session = [
        ("id_token_hint", false, ""),
        ("client_id", false, ""),
        ("post_logout_redirect_uri", false, "one of the client's"),
        ("state", false, ""),
    ];
    let answers = json!({
        "302": redirect("to post_logout_redirect_uri"),
        "200": page("the sign-out confirmation page"),
    });
    doc.path(
        paths::END_SESSION,
        browser_endpoint("oauth2_logout", &end_session, answers),
    );
}

/// A string for each name, in order.
fn strings(names: &[&str]) -> Vec<(String, Value)> {
    names.iter().map(|n| ((*n).to_string(), string())).collect()
}

fn object(fields: &[(String, Value)], required: &[&str]) -> Value {
    let fields: Vec<(&str, Value)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .collect();
    object_requiring(&fields, required)
}

fn components(doc: &mut Doc) {
    let integer = || json!({"type": "integer"});
    let list = || json!({"type": "array", "items": {"type": "string"}});
    let grant_type = json!({"type": "string",
                            "enum": ["authorization_code", "refresh_token", "client_credentials"]});
    doc.schema(
        "OAuthError",
        object(&strings(&["error", "error_description"]), &["error"]),
    );
    let mut request = vec![("grant_type".to_string(), grant_type)];
    request.extend(strings(&[
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "client_id",
        "client_secret",
    ]));
    doc.schema("OAuthTokenRequest", object(&request, &["grant_type"]));
    let mut response = strings(&["access_token", "token_type"]);
    response.push(("expires_in".into(), integer()));
    response.extend(strings(&["refresh_token", "id_token", "scope"]));
    doc.schema(
        "OAuthTokenResponse",
        object(&response, &["access_token", "token_type", "expires_in"]),
    );
    let mut claims = strings(&[
        "sub",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "email",
    ]);
    claims.push(("email_verified".into(), json!({"type": "boolean"})));
    doc.schema("UserInfo", object(&claims, &["sub"]));
    let hint = strings(&["token", "token_type_hint", "client_id", "client_secret"]);
    doc.schema("TokenHint", object(&hint, &["token"]));
    let mut introspection = vec![("active".to_string(), json!({"type": "boolean"}))];
    introspection.extend(strings(&[
        "token_type",
        "client_id",
        "scope",
        "sub",
        "username",
        "iss",
        "aud",
        "jti",
    ]));
    introspection.push(("exp".into(), integer()));
    introspection.push(("iat".into(), integer()));
    doc.schema("Introspection", object(&introspection, &["active"]));
    let mut discovery = strings(&[
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
        "end_session_endpoint",
    ]);
    for name in [
        "scopes_supported",
        "response_types_supported",
        "grant_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "code_challenge_methods_supported",
        "claims_supported",
    ] {
        discovery.push((name.into(), list()));
    }
    let mut schema = object(
        &discovery,
        &[
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "response_types_supported",
            "subject_types_supported",
            "id_token_signing_alg_values_supported",
        ],
    );
    // The document carries more metadata than listed (RFC 8414's optional fields).
    schema["additionalProperties"] = json!({});
    doc.schema("OpenIdConfiguration", schema);
}
