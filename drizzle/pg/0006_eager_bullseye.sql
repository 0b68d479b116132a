CREATE TABLE "profile_items" (
	"profile_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profiles" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"mode" text DEFAULT 'full' NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tool_overrides" (
	"connection_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"tool_name" text NOT NULL,
	"alias" text,
	"alias_key" text,
	"description" text,
	"updated_at" bigint NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "profile_id" text;--> statement-breakpoint
ALTER TABLE "connection_items" ADD COLUMN "approved" jsonb;--> statement-breakpoint
ALTER TABLE "connection_items" ADD COLUMN "approved_hash" text;--> statement-breakpoint
ALTER TABLE "connection_items" ADD COLUMN "held_at" bigint;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "held_mode" text DEFAULT 'hide' NOT NULL;--> statement-breakpoint
ALTER TABLE "oauth_grants" ADD COLUMN "profile_id" text;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "approved" jsonb;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "approved_hash" text;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "held_at" bigint;--> statement-breakpoint
ALTER TABLE "profile_items" ADD CONSTRAINT "profile_items_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "profile_items" ADD CONSTRAINT "profile_items_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "profiles" ADD CONSTRAINT "profiles_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tool_overrides" ADD CONSTRAINT "tool_overrides_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "profile_items_profile_item" ON "profile_items" USING btree ("profile_id","connection_id","kind","name");--> statement-breakpoint
CREATE INDEX "profile_items_connection" ON "profile_items" USING btree ("connection_id");--> statement-breakpoint
CREATE UNIQUE INDEX "profiles_workspace_name" ON "profiles" USING btree ("workspace_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "tool_overrides_connection_tool" ON "tool_overrides" USING btree ("connection_id","tool_name");--> statement-breakpoint
CREATE UNIQUE INDEX "tool_overrides_workspace_alias" ON "tool_overrides" USING btree ("workspace_id","alias_key");