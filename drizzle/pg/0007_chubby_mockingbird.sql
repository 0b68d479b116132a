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
ALTER TABLE "tool_overrides" ADD CONSTRAINT "tool_overrides_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "tool_overrides_connection_tool" ON "tool_overrides" USING btree ("connection_id","tool_name");--> statement-breakpoint
CREATE UNIQUE INDEX "tool_overrides_workspace_alias" ON "tool_overrides" USING btree ("workspace_id","alias_key");