-- History search and charts (issue 12). Hand-written: Prisma cannot express a generated column, expression
-- indexes or btree operator classes, so `migrate diff` leaves these objects alone (docs/history.md, "Searching history").

-- JSON data as jsonb, for the filter language's data fields (`data.customer = "c-42"`, `data.total > 100`).
-- data_text stays the text exactly as received, data_json is derived from it: the text parsed as jsonb, or NULL
-- when it does not parse as PostgreSQL jsonb (plain text, or JSON that jsonb refuses, such as "\u0000"), so no
-- row is ever refused because of it. IMMUTABLE (a cast), hence usable in a generated column.
-- The body is written with \073 for its semicolons: the migration runner (@prisma/adapter-pg executeScript)
-- splits scripts at every semicolon, so no statement (nor comment) of a migration may contain a literal one.
CREATE FUNCTION "whisper_jsonb_or_null"(body text) RETURNS jsonb
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS E'BEGIN RETURN body::jsonb\073 EXCEPTION WHEN others THEN RETURN NULL\073 END'
;

-- Rewrites the table once (every existing row gets its value).
ALTER TABLE "messages" ADD COLUMN "data_json" JSONB GENERATED ALWAYS AS ("whisper_jsonb_or_null"("data_text")) STORED;

-- data.path = value: containment (@>) served by GIN (jsonb_path_ops indexes one hash per leaf, smaller and
-- faster than the default opclass for @>).
CREATE INDEX "messages_data_json_idx" ON "messages" USING GIN ("data_json" jsonb_path_ops);

-- Prefix matches (`type = order.*`) whatever the database's collation: text_pattern_ops compares bytes, so
-- LIKE 'order.%' becomes an index range. Equality uses these indexes too, so they replace the plain ones.
DROP INDEX "messages_topic_type_seq_idx";
CREATE INDEX "messages_topic_type_seq_idx" ON "messages" ("topic", "type" text_pattern_ops, "ingest_seq");
DROP INDEX "messages_topic_key_seq_idx";
CREATE INDEX "messages_topic_key_seq_idx" ON "messages" ("topic", "ordering_key" text_pattern_ops, "ingest_seq");
-- source and subject have no length limit (a btree entry holds at most 2,704 bytes): their first 200 characters
-- are indexed (at most 800 bytes of UTF-8), server/history/filter-sql.ts compares those first.
CREATE INDEX "messages_topic_source_seq_idx" ON "messages" ("topic", left("source", 200) text_pattern_ops, "ingest_seq");
CREATE INDEX "messages_topic_subject_seq_idx" ON "messages" ("topic", left("subject", 200) text_pattern_ops, "ingest_seq");

-- seq = 1234 and "jump to broker sequence".
CREATE INDEX "messages_topic_sequence_idx" ON "messages" ("topic", "sequence") WHERE "sequence" IS NOT NULL;

-- Per-minute activity for the topic charts: `count` (recorded, written by the recorder) gains the publishes
-- through this dashboard (published, failed) and the recorder's lag (the largest sample of the minute).
ALTER TABLE "topic_minutes"
  ADD COLUMN "published" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "failed" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "behind_messages" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "behind_seconds" INTEGER NOT NULL DEFAULT 0;
