CREATE TABLE `conversation_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text NOT NULL,
	`claude_session_id` text,
	`sequence` integer NOT NULL,
	`event_type` text NOT NULL,
	`created_at` integer NOT NULL,
	`role` text,
	`content` text,
	`tool_id` text,
	`tool_name` text,
	`tool_input_json` text,
	`parent_tool_use_id` text,
	`tool_result_for_id` text,
	`tool_result_content` text,
	`is_completed` integer DEFAULT false NOT NULL,
	`approval_status` text,
	`approval_id` text,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `conversation_session_seq_idx` ON `conversation_events` (`session_id`,`sequence`);--> statement-breakpoint
CREATE INDEX `conversation_claude_session_seq_idx` ON `conversation_events` (`claude_session_id`,`sequence`);--> statement-breakpoint
CREATE INDEX `conversation_tool_idx` ON `conversation_events` (`session_id`,`tool_id`);--> statement-breakpoint
CREATE INDEX `conversation_approval_idx` ON `conversation_events` (`approval_id`);--> statement-breakpoint
CREATE INDEX `conversation_pending_approval_idx` ON `conversation_events` (`approval_status`) WHERE "conversation_events"."approval_status" = 'pending';--> statement-breakpoint
CREATE TABLE `raw_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text NOT NULL,
	`event_json` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `raw_events_session_idx` ON `raw_events` (`session_id`,`id`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`claude_session_id` text,
	`parent_session_id` text,
	`status` text NOT NULL,
	`query` text NOT NULL,
	`summary` text NOT NULL,
	`title` text,
	`model` text,
	`model_id` text,
	`working_dir` text NOT NULL,
	`max_turns` integer,
	`system_prompt` text,
	`append_system_prompt` text,
	`permission_prompt_tool` text,
	`allowed_tools` text,
	`disallowed_tools` text,
	`additional_directories` text,
	`mcp_config` text,
	`approvals_enabled` integer DEFAULT true NOT NULL,
	`pid` integer,
	`mcp_config_path` text,
	`created_at` integer NOT NULL,
	`last_activity_at` integer NOT NULL,
	`completed_at` integer,
	`error_message` text,
	`cost_usd` real,
	`input_tokens` integer,
	`output_tokens` integer,
	`cache_creation_input_tokens` integer,
	`cache_read_input_tokens` integer,
	`duration_ms` integer,
	`num_turns` integer,
	`result_content` text,
	FOREIGN KEY (`parent_session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sessions_run_id_unique` ON `sessions` (`run_id`);--> statement-breakpoint
CREATE INDEX `sessions_status_idx` ON `sessions` (`status`);--> statement-breakpoint
CREATE INDEX `sessions_claude_session_idx` ON `sessions` (`claude_session_id`);--> statement-breakpoint
CREATE INDEX `sessions_parent_idx` ON `sessions` (`parent_session_id`);--> statement-breakpoint
CREATE INDEX `sessions_created_idx` ON `sessions` (`created_at`);