ALTER TABLE `connection_items` ADD `approved` text;--> statement-breakpoint
ALTER TABLE `connection_items` ADD `approved_hash` text;--> statement-breakpoint
ALTER TABLE `connection_items` ADD `held_at` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `held_mode` text DEFAULT 'hide' NOT NULL;--> statement-breakpoint
ALTER TABLE `tools` ADD `approved` text;--> statement-breakpoint
ALTER TABLE `tools` ADD `approved_hash` text;--> statement-breakpoint
ALTER TABLE `tools` ADD `held_at` integer;