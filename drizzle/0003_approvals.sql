CREATE TABLE `approvals` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`type` text NOT NULL,
	`run_id` text NOT NULL,
	`session_id` text,
	`tool_use_id` text,
	`tool_name` text,
	`tool_input` text,
	`message` text,
	`status` text NOT NULL,
	`comment` text,
	`created_at` integer NOT NULL,
	`decided_at` integer
);
--> statement-breakpoint
CREATE INDEX `approvals_run_id_idx` ON `approvals` (`run_id`);--> statement-breakpoint
CREATE INDEX `approvals_session_idx` ON `approvals` (`session_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `approvals_pending_idx` ON `approvals` (`created_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `approvals_tool_use_id_idx` ON `approvals` (`tool_use_id`) WHERE tool_use_id IS NOT NULL;