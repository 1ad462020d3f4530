CREATE TABLE IF NOT EXISTS "authbridge_migrations" ("name" varchar(255) NOT NULL PRIMARY KEY, "applied_at" datetime NOT NULL);
