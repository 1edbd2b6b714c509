-- History order and retention (issue 10). Hand-written from `migrate diff`, so that rows recorded under the
-- previous schema get a deterministic arrival order.

-- The browse indexes keyed by (received_at, id) give way to ones keyed by the ingest sequence.
DROP INDEX "messages_received_idx";
DROP INDEX "messages_topic_key_received_idx";
DROP INDEX "messages_topic_received_idx";
DROP INDEX "messages_topic_type_received_idx";

-- messages.ingest_seq, as BIGSERIAL makes it (a bigint sequence owned by the column, CACHE 1, default nextval,
-- NOT NULL), but existing rows are numbered 1..n in the order the previous schema browsed them, (received_at,
-- id), with the broker's sequence breaking ties within one millisecond first: deterministic, whatever the
-- physical order of the table. ADD COLUMN without a default rewrites nothing, the UPDATE writes each row once.
ALTER TABLE "messages" ADD COLUMN "ingest_seq" BIGINT;
UPDATE "messages" AS m
   SET "ingest_seq" = o.n
  FROM (SELECT "id", row_number() OVER (ORDER BY "received_at", "sequence" NULLS FIRST, "id") AS n FROM "messages") AS o
 WHERE m."id" = o."id";
CREATE SEQUENCE "messages_ingest_seq_seq" AS BIGINT CACHE 1 OWNED BY "messages"."ingest_seq";
SELECT setval('"messages_ingest_seq_seq"', COALESCE((SELECT max("ingest_seq") FROM "messages"), 0) + 1, false);
ALTER TABLE "messages"
  ALTER COLUMN "ingest_seq" SET DEFAULT nextval('"messages_ingest_seq_seq"'),
  ALTER COLUMN "ingest_seq" SET NOT NULL;

-- Rows kept per topic (recorded minus deleted by retention) and the oldest one, for the existing rows.
ALTER TABLE "topic_stats" ADD COLUMN "row_count" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN "oldest_message_at" TIMESTAMPTZ(3);
INSERT INTO "topic_stats" ("topic", "message_count", "row_count", "last_message_at", "oldest_message_at")
SELECT "topic", count(*), count(*), max("received_at"), min("received_at") FROM "messages" GROUP BY "topic"
ON CONFLICT ("topic") DO UPDATE SET "row_count" = EXCLUDED."row_count", "oldest_message_at" = EXCLUDED."oldest_message_at";

-- Per-topic retention (null = the server default, 0 = no limit).
ALTER TABLE "topics" ADD COLUMN "retention_max_age_seconds" INTEGER,
ADD COLUMN "retention_max_rows" INTEGER;

CREATE UNIQUE INDEX "messages_ingest_seq_key" ON "messages"("ingest_seq");
CREATE INDEX "messages_topic_seq_idx" ON "messages"("topic", "ingest_seq");
CREATE INDEX "messages_topic_type_seq_idx" ON "messages"("topic", "type", "ingest_seq");
CREATE INDEX "messages_topic_key_seq_idx" ON "messages"("topic", "ordering_key", "ingest_seq");
CREATE INDEX "messages_topic_received_idx" ON "messages"("topic", "received_at");
