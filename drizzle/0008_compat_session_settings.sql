CREATE TABLE `file_snapshots` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text NOT NULL,
	`tool_id` text NOT NULL,
	`file_path` text NOT NULL,
	`content` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `file_snapshots_session_idx` ON `file_snapshots` (`session_id`,`id`);--> statement-breakpoint
ALTER TABLE `sessions` ADD `custom_instructions` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `archived` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `auto_accept_edits` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `dangerously_skip_permissions` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `dangerously_skip_permissions_expires_at` integer;--> statement-breakpoint
ALTER TABLE `sessions` ADD `dangerously_skip_permissions_timeout_ms` integer;--> statement-breakpoint
CREATE INDEX `sessions_working_dir_idx` ON `sessions` (`working_dir`,`created_at`);