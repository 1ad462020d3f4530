-- The durable email outbox (issue 10): an email is stored in the request that causes it and sent
-- by the outbox worker. `state` is pending, sent or dead; a claim counts an attempt and moves
-- `next_attempt_at` to the end of its lease (`claimed_by` names the worker).
CREATE TABLE "authbridge_email_outbox" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "to_address" varchar(254) NOT NULL, "from_address" varchar(320) NOT NULL, "subject" text NOT NULL, "body_text" text NOT NULL, "body_html" text NULL, "template" varchar(64) NOT NULL, "state" varchar(16) NOT NULL, "attempts" bigint NOT NULL, "next_attempt_at" datetime NOT NULL, "claimed_by" varchar(64) NULL, "last_error" text NULL, "created_at" datetime NOT NULL, "sent_at" datetime NULL);
-- The worker's due query: pending rows by next attempt.
CREATE INDEX "authbridge_email_outbox_due" ON "authbridge_email_outbox" ("next_attempt_at") WHERE "state" = 'pending';
-- Pruning sent rows after the retention period.
CREATE INDEX "authbridge_email_outbox_sent_at" ON "authbridge_email_outbox" ("sent_at") WHERE "state" = 'sent';
