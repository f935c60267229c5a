CREATE TABLE `recharge_schedules` (
	`id` integer PRIMARY KEY NOT NULL,
	`account_id` integer NOT NULL,
	`day_of_month` integer NOT NULL,
	`package_name` text NOT NULL,
	`method` text NOT NULL,
	`served_month` text,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
-- Hand-edited from drizzle-kit's rebuild (package_name becomes nullable for target rules): no
-- PRAGMA foreign_keys (recharge_rules has no foreign keys, and it is a no-op inside the migration's
-- transaction anyway), the CHECK names its columns without the temporary table's name (so the
-- rename leaves nothing behind), and the copy reads only the columns the old table has.
-- The state log's triggers go with the old table; installStateLog() makes them again after the
-- migrations and folds the rows in once, as for any table whose columns changed.
CREATE TABLE `__new_recharge_rules` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`threshold_millicredits` integer NOT NULL,
	`package_name` text,
	`method` text NOT NULL,
	`monthly_cap_cents` integer NOT NULL,
	`armed` integer DEFAULT 1 NOT NULL,
	`refused_in_month` text,
	`created_at_ms` integer NOT NULL,
	`target_millicredits` integer,
	`custom_discount_basis_points` integer,
	CONSTRAINT "recharge_rules_package_or_target" CHECK(("package_name" IS NULL) <> ("target_millicredits" IS NULL))
);
--> statement-breakpoint
INSERT INTO `__new_recharge_rules`("account_id", "threshold_millicredits", "package_name", "method", "monthly_cap_cents", "armed", "refused_in_month", "created_at_ms") SELECT "account_id", "threshold_millicredits", "package_name", "method", "monthly_cap_cents", "armed", "refused_in_month", "created_at_ms" FROM `recharge_rules`;--> statement-breakpoint
DROP TABLE `recharge_rules`;--> statement-breakpoint
ALTER TABLE `__new_recharge_rules` RENAME TO `recharge_rules`;--> statement-breakpoint
ALTER TABLE `purchases` ADD `schedule_id` integer;
