-- Login attempts counted per key (a SHA-256 of the scope, username and/or client address; never the
-- username itself). `reset_at` is when the count starts again, in milliseconds since the epoch.
CREATE TABLE "authbridge_login_attempt" ("key" varchar(64) NOT NULL PRIMARY KEY, "attempts" bigint NOT NULL, "reset_at" bigint NOT NULL);
CREATE INDEX "authbridge_login_attempt_reset_at" ON "authbridge_login_attempt" ("reset_at");
