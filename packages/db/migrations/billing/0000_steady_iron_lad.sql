CREATE SCHEMA "billing";
--> statement-breakpoint
CREATE TYPE "billing"."payment_status" AS ENUM('processing', 'captured', 'declined', 'refunded', 'voided');--> statement-breakpoint
CREATE TABLE "billing"."outbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"type" text NOT NULL,
	"aggregate_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"context" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "billing"."payments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"order_id" uuid NOT NULL,
	"user_id" uuid,
	"amount_cents" integer NOT NULL,
	"currency" text DEFAULT 'USD' NOT NULL,
	"status" "billing"."payment_status" NOT NULL,
	"provider" text NOT NULL,
	"provider_reference" text,
	"decline_code" text,
	"refunded_cents" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payments_amount_non_negative" CHECK ("billing"."payments"."amount_cents" >= 0),
	CONSTRAINT "payments_refund_within_amount" CHECK ("billing"."payments"."refunded_cents" between 0 and "billing"."payments"."amount_cents")
);
--> statement-breakpoint
CREATE TABLE "billing"."processed_events" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"processed_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing"."refunds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"payment_id" uuid NOT NULL,
	"amount_cents" integer NOT NULL,
	"reason" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"provider_reference" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refunds_amount_positive" CHECK ("billing"."refunds"."amount_cents" > 0)
);
--> statement-breakpoint
ALTER TABLE "billing"."refunds" ADD CONSTRAINT "refunds_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "billing"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outbox_seq_index" ON "billing"."outbox" USING btree ("seq") WHERE "billing"."outbox"."sent_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "payments_order_unique" ON "billing"."payments" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "payments_created_at_id_idx" ON "billing"."payments" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_idempotency_key_unique" ON "billing"."refunds" USING btree ("idempotency_key");