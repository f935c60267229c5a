CREATE TABLE `usage_reversals` (
	`usage_event_id` integer PRIMARY KEY NOT NULL,
	`transaction_id` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `usage_reversals_transaction` ON `usage_reversals` (`transaction_id`);