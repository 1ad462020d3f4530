-- Every refresh token authbridge issues, linked to the login (family) it descends from.
CREATE TABLE "authbridge_refresh_family" ("jti" varchar(255) NOT NULL PRIMARY KEY, "family_id" varchar(255) NOT NULL, "expires_at" datetime NOT NULL);
CREATE INDEX "authbridge_refresh_family_family_id" ON "authbridge_refresh_family" ("family_id");
CREATE INDEX "authbridge_refresh_family_expires_at" ON "authbridge_refresh_family" ("expires_at");
-- One row per rotated refresh token: its primary key serializes concurrent rotations, and the
-- successor pair is replayed within the grace period.
CREATE TABLE "authbridge_refresh_rotation" ("old_jti" varchar(255) NOT NULL PRIMARY KEY, "family_id" varchar(255) NOT NULL, "new_jti" varchar(255) NOT NULL, "new_refresh" text NOT NULL, "new_access" text NOT NULL, "rotated_at" datetime NOT NULL, "expires_at" datetime NOT NULL);
CREATE INDEX "authbridge_refresh_rotation_family_id" ON "authbridge_refresh_rotation" ("family_id");
CREATE INDEX "authbridge_refresh_rotation_expires_at" ON "authbridge_refresh_rotation" ("expires_at");
-- External (OAuth/OIDC) accounts linked to Django users. No foreign key to the user table: Django
-- deletes users without knowing this table, and a link to a deleted user is dropped on next use.
CREATE TABLE "authbridge_social_account" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "provider" varchar(100) NOT NULL, "provider_account_id" varchar(255) NOT NULL, "user_id" bigint NOT NULL, "created_at" datetime NOT NULL, CONSTRAINT "authbridge_social_account_provider_uniq" UNIQUE ("provider", "provider_account_id"));
CREATE INDEX "authbridge_social_account_user_id" ON "authbridge_social_account" ("user_id");
