//! `GET /api/schema/` (`AUTHBRIDGE_API_SCHEMA`, off by default): an OpenAPI 3.1 description of
//! the endpoints this configuration offers, for client generators.
//!
//! simplejwt's views and `/api/me/` are described as drf-spectacular describes them in a Django
//! project (operation ids, component names, `readOnly`/`writeOnly`, required lists, the
//! `jwtAuth` scheme), so a client generated from the Django project's schema and one generated
//! from ours have the same names and shapes; the Django interop suite compares the two. Our own
//! endpoints follow the same conventions. One file per surface: `simplejwt.rs` (the token API and
//! `/api/me/`), `authjs.rs` (the bridge), `oidc.rs` (the provider, only when it is on).

mod authjs;
mod oidc;
mod simplejwt;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::config::Settings;
use crate::http::drf::json_response;
use crate::http::AppState;

pub const PATH: &str = "/api/schema/";

pub fn routes(settings: &Settings) -> Router<AppState> {
    if settings.api_schema {
        Router::new().route(PATH, get(schema))
    } else {
        Router::new()
    }
}

async fn schema(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, &document(&state))
}

/// The document for this server as configured: an endpoint that answers 404 in this
/// configuration (the JWKS with an HMAC key, the Auth.js bridge without a secret, the sync
/// endpoint without a service token, the OpenID provider when off) is left out.
pub fn document(state: &AppState) -> Value {
    let mut doc = Doc::default();
    simplejwt::describe(&mut doc, state);
    authjs::describe(&mut doc, state);
    if state.settings.oidc.enabled {
        oidc::describe(&mut doc);
    }
    operations(&mut doc);
    doc.finish()
}

/// The probes and this document.
fn operations(doc: &mut Doc) {
    doc.schema(
        "Health",
        object(&[("status", read_only(json!({"type": "string"})))]),
    );
    for (path, id, what) in [
        (
            "/healthz",
            "healthz_retrieve",
            "Liveness: the server serves and its database answers.",
        ),
        (
            "/readyz",
            "readyz_retrieve",
            "Readiness: the database answers.",
        ),
    ] {
        doc.path(
            path,
            json!({"get": {
                "operationId": id,
                "description": what,
                "tags": ["health"],
                "responses": {
                    "200": json_content(reference("Health"), "`{\"status\": \"ok\"}`"),
                    "503": json_content(
                        reference("Health"),
                        "`{\"status\": \"database unavailable\"}`",
                    ),
                },
            }}),
        );
    }
    doc.path(
        PATH,
        json!({"get": {
            "operationId": "schema_retrieve",
            "description": "This OpenAPI 3.1 document.",
            "tags": ["schema"],
            "responses": {"200": json_content(
                json!({"type": "object", "additionalProperties": {}}),
                "",
            )},
        }}),
    );
}

/// The document being assembled; a component added twice (the JWKS shape, shared by two
/// surfaces) is the same value both times.
#[derive(Default)]
pub(super) struct Doc {
    paths: Map<String, Value>,
    schemas: Map<String, Value>,
    security_schemes: Map<String, Value>,
}

impl Doc {
    pub(super) fn path(&mut self, path: &str, item: Value) {
        self.paths.insert(path.into(), item);
    }

    pub(super) fn schema(&mut self, name: &str, schema: Value) {
        self.schemas.insert(name.into(), schema);
    }

    pub(super) fn security_scheme(&mut self, name: &str, scheme: Value) {
        self.security_schemes.insert(name.into(), scheme);
    }

    fn finish(self) -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {
                "title": "authbridge",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "simplejwt's token API on Django's tables, the Auth.js bridge \
                                and, when on, an OpenID Connect provider.",
            },
            "paths": self.paths,
            "components": {
                "schemas": self.schemas,
                "securitySchemes": self.security_schemes,
            },
        })
    }
}

pub(super) fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A request body as drf-spectacular writes it for a DRF view: the three parsers DRF enables by
/// default, one schema.
pub(super) fn drf_request(name: &str) -> Value {
    let schema = reference(name);
    json!({
        "content": {
            "application/json": {"schema": schema},
            "application/x-www-form-urlencoded": {"schema": schema},
            "multipart/form-data": {"schema": schema},
        },
        "required": true,
    })
}

/// A JSON response; drf-spectacular's description of a serializer's response is `""`.
pub(super) fn json_content(schema: Value, description: &str) -> Value {
    json!({"content": {"application/json": {"schema": schema}}, "description": description})
}

pub(super) fn read_only(mut schema: Value) -> Value {
    schema["readOnly"] = Value::Bool(true);
    schema
}

pub(super) fn write_only(mut schema: Value) -> Value {
    schema["writeOnly"] = Value::Bool(true);
    schema
}

/// A serializer's object: every field required, listed sorted as drf-spectacular does.
pub(super) fn object(fields: &[(&str, Value)]) -> Value {
    let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    object_requiring(fields, &names)
}

pub(super) fn object_requiring(fields: &[(&str, Value)], required: &[&str]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|(name, schema)| ((*name).to_string(), schema.clone()))
        .collect();
    let mut required = required.to_vec();
    required.sort_unstable();
    json!({"type": "object", "properties": properties, "required": required})
}

/// A JSON Web Key Set (RFC 7517 §5).
pub(super) fn jwks_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"keys": {"type": "array", "items": {
            "type": "object",
            "properties": {
                "kty": {"type": "string"},
                "kid": {"type": "string"},
                "use": {"type": "string"},
                "alg": {"type": "string"},
            },
            "required": ["kty"],
            "additionalProperties": {},
        }}},
        "required": ["keys"],
    })
}
