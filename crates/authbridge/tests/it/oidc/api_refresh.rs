//! `/api/token/refresh/` refuses a refresh token issued to an OAuth client: such a token
//! refreshes only at the token endpoint, where its client authenticates.

use serde_json::json;

use crate::support::bodies::INVALID;
use crate::support::tokens::{claims_aged, mint};
use crate::support::{backends, status_body, TestApp};

#[tokio::test]
async fn a_clients_refresh_token_is_refused_at_the_token_api() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let id = app.create_user("ada", "pw-ada-123", true).await;
        let mut claims = claims_aged("refresh", json!(id.to_string()), 0, 3600);
        claims["client_id"] = json!("web");
        claims["scope"] = json!("openid");
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": mint(claims)}))
            .await;
        assert_eq!(status_body(res).await, (401, INVALID.into()), "{backend}");

        // The same token without `client_id` is an ordinary refresh token.
        let claims = claims_aged("refresh", json!(id.to_string()), 0, 3600);
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": mint(claims)}))
            .await;
        assert_eq!(res.status(), 200, "{backend}");
    }
}
