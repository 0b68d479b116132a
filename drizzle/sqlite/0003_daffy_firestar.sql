CREATE TABLE `audit_anchors` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL,
	`removed_at` integer NOT NULL,
	`key_version` integer NOT NULL,
	`signature` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_events` (
	`seq` integer NOT NULL,
	`at` integer NOT NULL,
	`workspace_id` text,
	`actor` text NOT NULL,
	`from_ip` text,
	`from_user_agent` text,
	`action` text NOT NULL,
	`target` text,
	`details` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_events_seq` ON `audit_events` (`seq`);--> statement-breakpoint
CREATE INDEX `audit_events_workspace_seq` ON `audit_events` (`workspace_id`,`seq`);