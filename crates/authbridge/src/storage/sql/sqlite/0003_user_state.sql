-- Per user: a fingerprint of the password authbridge last saw (a change revokes the user's
-- refresh tokens) and when the user's tokens were last revoked ("log out everywhere"). No foreign
-- key to the user table: Django deletes users without knowing this table.
CREATE TABLE "authbridge_user_state" ("user_id" bigint NOT NULL PRIMARY KEY, "password_fp" varchar(64) NOT NULL, "revoked_at" datetime NULL, "updated_at" datetime NOT NULL);
