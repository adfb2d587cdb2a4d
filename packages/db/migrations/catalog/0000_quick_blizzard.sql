CREATE SCHEMA "catalog";
--> statement-breakpoint
CREATE TABLE "catalog"."books" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"title" text NOT NULL,
	"author" text NOT NULL,
	"isbn" text,
	"price_cents" integer NOT NULL,
	"stock" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "books_price_cents_non_negative" CHECK ("catalog"."books"."price_cents" >= 0),
	CONSTRAINT "books_stock_non_negative" CHECK ("catalog"."books"."stock" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "books_isbn_unique" ON "catalog"."books" USING btree ("isbn");--> statement-breakpoint
CREATE INDEX "books_created_at_id_idx" ON "catalog"."books" USING btree ("created_at","id");