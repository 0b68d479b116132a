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
CREATE UNIQUE INDEX `tool_overrides_workspace_alias` ON `tool_overrides` (`workspace_id`,`alias_key`);