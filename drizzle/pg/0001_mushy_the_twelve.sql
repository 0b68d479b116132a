CREATE TABLE "connection_items" (
	"connection_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"definition" jsonb NOT NULL,
	"enabled" boolean NOT NULL,
	"definition_hash" text NOT NULL,
	"seen_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "access_log" ADD COLUMN "kind" text DEFAULT 'tool' NOT NULL;--> statement-breakpoint
ALTER TABLE "connection_items" ADD CONSTRAINT "connection_items_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "connection_items_connection_kind_name" ON "connection_items" USING btree ("connection_id","kind","name");