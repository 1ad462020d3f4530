-- The OpenID Connect provider (issue 9). No foreign keys to the user table: Django deletes users
-- without knowing these tables (a session or code of a deleted user finds no user and is refused).
-- ID-token signing keys, the private half sealed under a key derived from DJANGO_SECRET_KEY.
CREATE TABLE "authbridge_oidc_key" ("kid" varchar(128) NOT NULL PRIMARY KEY, "alg" varchar(16) NOT NULL, "sealed" blob NOT NULL, "created_at" datetime NOT NULL, "retire_at" datetime NULL);
-- One active (signing) key per algorithm: two instances generating a missing key store one.
CREATE UNIQUE INDEX "authbridge_oidc_key_one_active" ON "authbridge_oidc_key" ("alg") WHERE "retire_at" IS NULL;
-- Clients added by `authbridge client add` (a public client has no secret_hash); URI lists are JSON arrays.
CREATE TABLE "authbridge_oidc_client" ("client_id" varchar(255) NOT NULL PRIMARY KEY, "client_name" varchar(255) NOT NULL, "secret_hash" varchar(64) NULL, "redirect_uris" text NOT NULL, "post_logout_redirect_uris" text NOT NULL, "first_party" bool NOT NULL, "id_token_alg" varchar(16) NULL, "created_at" datetime NOT NULL);
-- Authorization codes by SHA-256; `used_at` is set by the one redemption, `refresh_jti` names
-- the refresh token issued from the code (revoked if the code is presented again).
CREATE TABLE "authbridge_oidc_code" ("code_hash" varchar(64) NOT NULL PRIMARY KEY, "client_id" varchar(255) NOT NULL, "user_id" bigint NOT NULL, "redirect_uri" text NOT NULL, "scope" varchar(255) NOT NULL, "nonce" text NULL, "code_challenge" varchar(128) NULL, "auth_time" datetime NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "used_at" datetime NULL, "refresh_jti" varchar(255) NULL);
CREATE INDEX "authbridge_oidc_code_expires_at" ON "authbridge_oidc_code" ("expires_at");
-- Browser logins at the provider, by SHA-256 of the session cookie.
CREATE TABLE "authbridge_login_session" ("id_hash" varchar(64) NOT NULL PRIMARY KEY, "user_id" bigint NOT NULL, "auth_time" datetime NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL);
CREATE INDEX "authbridge_login_session_user_id" ON "authbridge_login_session" ("user_id");
CREATE INDEX "authbridge_login_session_expires_at" ON "authbridge_login_session" ("expires_at");
-- What each user consented to, per client.
CREATE TABLE "authbridge_oidc_consent" ("user_id" bigint NOT NULL, "client_id" varchar(255) NOT NULL, "scope" varchar(255) NOT NULL, "created_at" datetime NOT NULL, PRIMARY KEY ("user_id", "client_id"));
