CREATE TABLE `connection_items` (
	`connection_id` text NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`definition` text NOT NULL,
	`enabled` integer NOT NULL,
	`definition_hash` text NOT NULL,
	`seen_at` integer NOT NULL,
	FOREIGN KEY (`connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `connection_items_connection_kind_name` ON `connection_items` (`connection_id`,`kind`,`name`);--> statement-breakpoint
ALTER TABLE `access_log` ADD `kind` text DEFAULT 'tool' NOT NULL;