-- CreateEnum
CREATE TYPE "stall_status" AS ENUM ('stalled', 'resumed', 'discarded', 'failed');

-- CreateEnum
CREATE TYPE "stalled_message_status" AS ENUM ('stalled', 'published', 'failed', 'discarded');

-- CreateTable
CREATE TABLE "topics" (
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "ordering" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "topics_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "subscriptions" (
    "topic" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("topic","name")
);

-- CreateTable
CREATE TABLE "messages" (
    "id" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "specversion" TEXT NOT NULL DEFAULT '1.0',
    "time" TEXT NOT NULL,
    "subject" TEXT,
    "datacontenttype" TEXT,
    "dataschema" TEXT,
    "extensions" JSONB NOT NULL DEFAULT '{}',
    "data" BYTEA,
    "data_text" TEXT,
    "size" INTEGER NOT NULL,
    "ordering_key" TEXT,
    "replay_of" TEXT,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "sequence" BIGINT,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "topic_stats" (
    "topic" TEXT NOT NULL,
    "message_count" BIGINT NOT NULL DEFAULT 0,
    "last_message_at" TIMESTAMPTZ(3),

    CONSTRAINT "topic_stats_pkey" PRIMARY KEY ("topic")
);

-- CreateTable
CREATE TABLE "topic_minutes" (
    "topic" TEXT NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "topic_minutes_pkey" PRIMARY KEY ("topic","minute")
);

-- CreateTable
CREATE TABLE "stalls" (
    "id" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "ordering_key" TEXT NOT NULL,
    "error" TEXT NOT NULL,
    "status" "stall_status" NOT NULL DEFAULT 'stalled',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stalls_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stalled_messages" (
    "stall_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "message_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "attributes" JSONB NOT NULL,
    "data" BYTEA,
    "data_text" TEXT,
    "status" "stalled_message_status" NOT NULL DEFAULT 'stalled',
    "error" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stalled_messages_pkey" PRIMARY KEY ("stall_id","seq")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "details" JSONB,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "messages_topic_received_idx" ON "messages"("topic", "received_at", "id");

-- CreateIndex
CREATE INDEX "messages_received_idx" ON "messages"("received_at", "id");

-- CreateIndex
CREATE INDEX "messages_topic_type_received_idx" ON "messages"("topic", "type", "received_at", "id");

-- CreateIndex
CREATE INDEX "messages_topic_key_received_idx" ON "messages"("topic", "ordering_key", "received_at", "id");

-- CreateIndex
CREATE INDEX "stalls_topic_key_status_idx" ON "stalls"("topic", "ordering_key", "status");

-- CreateIndex
CREATE INDEX "stalls_status_created_idx" ON "stalls"("status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "stalled_messages_stall_message_key" ON "stalled_messages"("stall_id", "message_id");

-- CreateIndex
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at");

-- CreateIndex
CREATE INDEX "audit_log_target_at_idx" ON "audit_log"("target", "at");

-- AddForeignKey
ALTER TABLE "stalled_messages" ADD CONSTRAINT "stalled_messages_stall_id_fkey" FOREIGN KEY ("stall_id") REFERENCES "stalls"("id") ON DELETE CASCADE ON UPDATE CASCADE;
