ALTER TABLE "connections" ADD COLUMN "server_capabilities" jsonb;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "server_instructions" text;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "icons" jsonb;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "meta" jsonb;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "execution" jsonb;