ALTER TABLE `connections` ADD `server_capabilities` text;--> statement-breakpoint
ALTER TABLE `connections` ADD `server_instructions` text;--> statement-breakpoint
ALTER TABLE `tools` ADD `icons` text;--> statement-breakpoint
ALTER TABLE `tools` ADD `meta` text;--> statement-breakpoint
ALTER TABLE `tools` ADD `execution` text;