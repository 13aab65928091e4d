CREATE TABLE `audit_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text,
	`run_id` text NOT NULL,
	`tool_use_id` text,
	`tool_name` text NOT NULL,
	`tool_input` text NOT NULL,
	`decision` text NOT NULL,
	`decided_by` text NOT NULL,
	`rule` text,
	`source` text,
	`provenance` text,
	`approval_id` text,
	`reason` text,
	`decided_at` integer NOT NULL,
	`latency_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_session_idx` ON `audit_entries` (`session_id`,`decided_at`);--> statement-breakpoint
CREATE INDEX `audit_decided_at_idx` ON `audit_entries` (`decided_at`);--> statement-breakpoint
CREATE TABLE `session_policies` (
	`session_id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`working_dir` text NOT NULL,
	`rules` text NOT NULL,
	`approval_timeout_ms` integer,
	`on_timeout` text,
	`approvals_enabled` integer NOT NULL,
	`allow_self_approval` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `session_policies_run_id_unique` ON `session_policies` (`run_id`);