CREATE TABLE `profile_items` (
	`profile_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	FOREIGN KEY (`profile_id`) REFERENCES `profiles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `profile_items_profile_item` ON `profile_items` (`profile_id`,`connection_id`,`kind`,`name`);--> statement-breakpoint
CREATE INDEX `profile_items_connection` ON `profile_items` (`connection_id`);--> statement-breakpoint
CREATE TABLE `profiles` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`mode` text DEFAULT 'full' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `profiles_workspace_name` ON `profiles` (`workspace_id`,`name`);--> statement-breakpoint
CREATE TABLE `tool_overrides` (
	`connection_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`tool_name` text NOT NULL,
	`alias` text,
	`alias_key` text,
	`description` text,
	`updated_at` integer NOT NULL,
	`updated_by` text,
	FOREIGN KEY (`connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tool_overrides_connection_tool` ON `tool_overrides` (`connection_id`,`tool_name`);--> statement-breakpoint
CREATE UNIQUE INDEX `tool_overrides_workspace_alias` ON `tool_overrides` (`workspace_id`,`alias_key`);--> statement-breakpoint
ALTER TABLE `api_keys` ADD `profile_id` text;--> statement-breakpoint
ALTER TABLE `connection_items` ADD `approved` text;--> statement-breakpoint
ALTER TABLE `connection_items` ADD `approved_hash` text;--> statement-breakpoint
ALTER TABLE `connection_items` ADD `held_at` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `held_mode` text DEFAULT 'hide' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth_grants` ADD `profile_id` text;--> statement-breakpoint
ALTER TABLE `tools` ADD `approved` text;--> statement-breakpoint
ALTER TABLE `tools` ADD `approved_hash` text;--> statement-breakpoint
ALTER TABLE `tools` ADD `held_at` integer;