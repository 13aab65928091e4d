DROP INDEX `sessions_status_idx`;--> statement-breakpoint
CREATE INDEX `sessions_status_created_idx` ON `sessions` (`status`,`created_at`);