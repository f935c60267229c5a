CREATE TABLE `state_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`table_name` text NOT NULL,
	`row_key` text NOT NULL,
	`op` text NOT NULL,
	`row_json` text,
	`prev_hash` text,
	`hash` text
);
--> statement-breakpoint
CREATE INDEX `state_log_row` ON `state_log` (`table_name`,`row_key`,`seq`);--> statement-breakpoint
CREATE INDEX `state_log_unsealed` ON `state_log` (`seq`) WHERE "state_log"."hash" IS NULL;