ALTER TABLE `usage_events` ADD `tags` text;--> statement-breakpoint
CREATE INDEX `usage_events_tagged_time` ON `usage_events` (`occurred_at_ms`) WHERE "usage_events"."tags" IS NOT NULL;