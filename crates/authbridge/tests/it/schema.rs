//! `GET /api/schema/`: off by default; when on, an OpenAPI 3.1 document of exactly the endpoints
//! this configuration serves, whose references resolve and whose response shapes are the bodies
//! the server really answers. (The interop suite validates it with openapi-spec-validator and
//! compares it with drf-spectacular's schema of the Django project.)

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{backends, json_of, TestApp, FAST_HASHER};

const ON: (&str, &str) = ("AUTHBRIDGE_API_SCHEMA", "true");

/// Every optional surface on (the OpenID provider apart: its endpoints live in `http/oidc`).
fn everything() -> Vec<(&'static str, &'static str)> {
    vec![
        ON,
        FAST_HASHER,
        (
            "AUTH_SECRET",
            "schema-test-auth-secret-0123456789abcdefghijklmnop",
        ),
        (
            "AUTHBRIDGE_SERVICE_TOKEN",
            "schema-test-service-token-0123456789abcdefghijkl",
        ),
        ("SIMPLE_JWT_ALGORITHM", "EdDSA"),
        ("SIMPLE_JWT_SIGNING_KEY", include_str!("keys/ed25519.pem")),
        (
            "SIMPLE_JWT_VERIFYING_KEY",
            include_str!("keys/ed25519.pub.pem"),
        ),
    ]
}

async fn document(app: &TestApp) -> Value {
    let res = app.request(Method::GET, "/api/schema/", &[], None).await;
    assert_eq!(res.headers()["content-type"], "application/json");
    let (status, doc) = json_of(res).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["openapi"], "3.1.0");
    doc
}

fn paths(doc: &Value) -> BTreeSet<String> {
    doc["paths"].as_object().unwrap().keys().cloned().collect()
}

fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

/// The property names a client reads in a response (everything but `writeOnly`).
fn readable(schema: &Value) -> BTreeSet<String> {
    schema["properties"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, p)| p["writeOnly"] != json!(true))
        .map(|(name, _)| name.clone())
        .collect()
}

fn keys(body: &Value) -> BTreeSet<String> {
    body.as_object().unwrap().keys().cloned().collect()
}

fn refs(node: &Value, out: &mut BTreeSet<String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.insert(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn off_by_default() {
    let app = TestApp::spawn("sqlite", &[]).await;
    let (status, body) = json_of(app.request(Method::GET, "/api/schema/", &[], None).await).await;
    assert_eq!((status, body), (404, json!({"detail": "Not found."})));
}

#[tokio::test]
async fn every_documented_operation_is_served_and_every_reference_resolves() {
    let app = TestApp::spawn("sqlite", &everything()).await;
    let doc = document(&app).await;
    let want: BTreeSet<String> = [
        "/api/token/",
        "/api/token/refresh/",
        "/api/token/verify/",
        "/api/token/blacklist/",
        "/api/token/logout/",
        "/api/token/logout-all/",
        "/api/token/jwks/",
        "/api/me/",
        "/api/authjs/session",
        "/api/authjs/token",
        "/api/users/sync",
        "/healthz",
        "/readyz",
        "/api/schema/",
    ]
    .map(String::from)
    .into();
    assert_eq!(paths(&doc), want);

    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = app.request(method.clone(), path, &[], None).await.status();
            // Without credentials or a body: refused, but by the endpoint itself.
            assert!(
                ![404, 405].contains(&status.as_u16()),
                "{method} {path}: {status}"
            );
            for requirement in op["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(
                        doc["components"]["securitySchemes"].get(scheme).is_some(),
                        "{path}: security scheme {scheme}"
                    );
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    refs(&doc, &mut found);
    for r in found {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(component(&doc, name).is_object(), "{r} does not resolve");
    }
}

#[tokio::test]
async fn the_document_follows_the_configuration() {
    let app = TestApp::spawn("sqlite", &[ON]).await;
    let doc = document(&app).await;
    for absent in [
        "/api/token/jwks/",
        "/api/authjs/session",
        "/api/users/sync",
        "/.well-known/openid-configuration",
    ] {
        assert!(!paths(&doc).contains(absent), "{absent}");
    }
    assert_eq!(
        component(&doc, "TokenRefresh")["properties"]["refresh"],
        json!({"type": "string", "writeOnly": true})
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["jwtAuth"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    );

    let app = TestApp::spawn(
        "sqlite",
        &[
            ON,
            ("USERNAME_FIELD", "email"),
            ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
            ("SIMPLE_JWT_AUTH_HEADER_TYPES", "JWT,Token"),
            ("AUTHBRIDGE_OIDC_ENABLED", "true"),
            ("AUTHBRIDGE_PUBLIC_URL", "https://auth.example.com"),
        ],
    )
    .await;
    let doc = document(&app).await;
    let login = component(&doc, "TokenObtainPair");
    assert_eq!(
        login["required"],
        json!(["access", "email", "password", "refresh", "user_id"])
    );
    assert_eq!(
        component(&doc, "TokenRefresh")["properties"]["refresh"],
        json!({"type": "string"})
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["jwtAuth"],
        json!({"type": "apiKey", "in": "header", "name": "Authorization",
               "description": "Token-based authentication with required prefix \"JWT\""})
    );
    for path in [
        "/.well-known/openid-configuration",
        "/oauth2/authorize",
        "/oauth2/token",
        "/oauth2/userinfo",
        "/oauth2/jwks",
        "/oauth2/revoke",
        "/oauth2/introspect",
        "/oauth2/logout",
    ] {
        assert!(paths(&doc).contains(path), "{path}");
    }
}

/// The shapes a client generator reads are the bodies the server sends, `/api/me/`'s `is_staff`
/// included.
#[tokio::test]
async fn response_shapes_are_the_bodies_answered() {
    for backend in backends() {
        let app = TestApp::spawn(
            backend,
            &[
                ON,
                FAST_HASHER,
                ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
            ],
        )
        .await;
        let doc = document(&app).await;
        let id = app.create_user("ann", "pw-1", true).await;
        app.exec(r#"UPDATE "auth_user" SET "is_staff" = true WHERE "username" = 'ann'"#)
            .await;

        let (status, login) = json_of(
            app.post_json(
                "/api/token/",
                json!({"username": "ann", "password": "pw-1"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{backend}: {login}");
        assert_eq!(keys(&login), readable(component(&doc, "TokenObtainPair")));

        let refresh = login["refresh"].as_str().unwrap();
        let (_, refreshed) = json_of(
            app.post_json("/api/token/refresh/", json!({"refresh": refresh}))
                .await,
        )
        .await;
        assert_eq!(keys(&refreshed), readable(component(&doc, "TokenRefresh")));

        let bearer = format!("Bearer {}", login["access"].as_str().unwrap());
        let (status, me) = json_of(
            app.request(Method::GET, "/api/me/", &[("Authorization", &bearer)], None)
                .await,
        )
        .await;
        assert_eq!(status, 200, "{backend}");
        assert_eq!(
            me,
            json!({"id": id, "username": "ann", "email": "ann@example.com", "is_staff": true}),
            "{backend}"
        );
        assert_eq!(keys(&me), readable(component(&doc, "Me")));

        let (_, health) = json_of(app.request(Method::GET, "/healthz", &[], None).await).await;
        assert_eq!(keys(&health), readable(component(&doc, "Health")));
    }
}

/// In cookie mode the refresh token may stay in its cookie, both ways: `refresh` is optional.
#[tokio::test]
async fn cookie_mode_makes_refresh_optional() {
    let app = TestApp::spawn(
        "sqlite",
        &[ON, FAST_HASHER, ("JWT_AUTH_REFRESH_COOKIE", "refresh")],
    )
    .await;
    let doc = document(&app).await;
    for (name, required) in [
        (
            "TokenObtainPair",
            json!(["access", "password", "user_id", "username"]),
        ),
        ("TokenRefresh", json!(["access"])),
        ("TokenBlacklist", json!([])),
        ("TokenLogout", json!([])),
    ] {
        assert_eq!(component(&doc, name)["required"], required, "{name}");
    }
    app.create_user("ann", "pw-1", true).await;
    let (status, login) = json_of(
        app.post_json(
            "/api/token/",
            json!({"username": "ann", "password": "pw-1"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(keys(&login), ["access", "user_id"].map(String::from).into());
}
