ALTER TABLE "connection_items" ADD COLUMN "approved" jsonb;--> statement-breakpoint
ALTER TABLE "connection_items" ADD COLUMN "approved_hash" text;--> statement-breakpoint
ALTER TABLE "connection_items" ADD COLUMN "held_at" bigint;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "held_mode" text DEFAULT 'hide' NOT NULL;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "approved" jsonb;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "approved_hash" text;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "held_at" bigint;