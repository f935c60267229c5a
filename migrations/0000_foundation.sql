CREATE TABLE `accounts` (
	`id` integer PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`cost_center` text,
	`created_at_ms` integer NOT NULL,
	`balance_millicredits` integer DEFAULT 0 NOT NULL,
	`topup_reference_millicredits` integer DEFAULT 0 NOT NULL,
	`overdraft_from_account_id` integer,
	`overdraft_max_millicredits` integer DEFAULT 0 NOT NULL,
	CONSTRAINT "accounts_no_overdraft" CHECK("accounts"."kind" = 'world' OR "accounts"."balance_millicredits" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_name_nocase` ON `accounts` ("name" COLLATE NOCASE);--> statement-breakpoint
CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`department_id` integer,
	`secret_hash` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`created_by` text NOT NULL,
	`expires_at_ms` integer,
	`revoked_at_ms` integer,
	`revoked_by` text
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY NOT NULL,
	`at_ms` integer NOT NULL,
	`actor` text NOT NULL,
	`command` text NOT NULL,
	`args_json` text NOT NULL,
	`outcome` text NOT NULL,
	`transaction_id` integer
);
--> statement-breakpoint
CREATE INDEX `audit_log_time` ON `audit_log` (`at_ms`);--> statement-breakpoint
CREATE TABLE `balance_alerts` (
	`account_id` integer NOT NULL,
	`level_percent` integer NOT NULL,
	`fired_at_ms` integer NOT NULL,
	PRIMARY KEY(`account_id`, `level_percent`)
);
--> statement-breakpoint
CREATE TABLE `deliveries` (
	`outbox_id` integer NOT NULL,
	`channel_id` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at_ms` integer NOT NULL,
	`claimed_by` text,
	`claim_expires_at_ms` integer,
	`delivered_at_ms` integer,
	`last_error` text,
	PRIMARY KEY(`outbox_id`, `channel_id`)
);
--> statement-breakpoint
CREATE INDEX `deliveries_due` ON `deliveries` (`status`,`next_attempt_at_ms`);--> statement-breakpoint
CREATE TABLE `entries` (
	`id` integer PRIMARY KEY NOT NULL,
	`transaction_id` integer NOT NULL,
	`account_id` integer NOT NULL,
	`amount_millicredits` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `entries_account_transaction` ON `entries` (`account_id`,`transaction_id`);--> statement-breakpoint
CREATE INDEX `entries_transaction` ON `entries` (`transaction_id`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`command` text NOT NULL,
	`request_hash` text NOT NULL,
	`result_json` text NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `invoices` (
	`number` integer PRIMARY KEY NOT NULL,
	`purchase_id` integer NOT NULL,
	`issued_at_ms` integer NOT NULL,
	`buyer_name` text NOT NULL,
	`buyer_address` text NOT NULL,
	`buyer_vat_id` text,
	`vat_rate_basis_points` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_purchase_id_unique` ON `invoices` (`purchase_id`);--> statement-breakpoint
CREATE TABLE `ledger_transactions` (
	`id` integer PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`actor` text NOT NULL,
	`memo` text DEFAULT '' NOT NULL,
	`created_at_ms` integer NOT NULL,
	`idempotency_key` text,
	`reverses_transaction_id` integer,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ledger_transactions_kind_time` ON `ledger_transactions` (`kind`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `ledger_transactions_time` ON `ledger_transactions` (`created_at_ms`);--> statement-breakpoint
CREATE TABLE `limits` (
	`id` integer PRIMARY KEY NOT NULL,
	`scope` text NOT NULL,
	`user_id` integer,
	`department_id` integer,
	`model` text,
	`tier` text,
	`period` text NOT NULL,
	`amount_millicredits` integer NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `model_rates` (
	`id` integer PRIMARY KEY NOT NULL,
	`model` text NOT NULL,
	`display_name` text NOT NULL,
	`tier` text NOT NULL,
	`input_per_1k_millicredits` integer NOT NULL,
	`output_per_1k_millicredits` integer NOT NULL,
	`tool_call_millicredits` integer NOT NULL,
	`effective_from_ms` integer NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `model_rates_model_effective` ON `model_rates` (`model`,`effective_from_ms`);--> statement-breakpoint
CREATE TABLE `notification_channels` (
	`id` integer PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`target` text NOT NULL,
	`secret` text,
	`created_at_ms` integer NOT NULL,
	`removed_at_ms` integer,
	`last_error` text,
	`last_error_at_ms` integer,
	`last_delivered_at_ms` integer,
	`consecutive_failures` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`type` text NOT NULL,
	`dedupe_key` text,
	`payload_json` text NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_event_id_unique` ON `outbox` (`event_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_dedupe_key_unique` ON `outbox` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `outbox_created` ON `outbox` (`created_at_ms`);--> statement-breakpoint
CREATE TABLE `purchases` (
	`id` integer PRIMARY KEY NOT NULL,
	`package_name` text NOT NULL,
	`quantity` integer DEFAULT 1 NOT NULL,
	`millicredits` integer NOT NULL,
	`discount_basis_points` integer NOT NULL,
	`price_cents` integer NOT NULL,
	`method` text NOT NULL,
	`status` text NOT NULL,
	`account_id` integer NOT NULL,
	`actor` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`settled_at_ms` integer,
	`cancelled_at_ms` integer,
	`transaction_id` integer,
	`origin` text DEFAULT 'manual' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `purchases_status` ON `purchases` (`status`);--> statement-breakpoint
CREATE TABLE `recharge_rules` (
	`account_id` integer PRIMARY KEY NOT NULL,
	`threshold_millicredits` integer NOT NULL,
	`package_name` text NOT NULL,
	`method` text NOT NULL,
	`monthly_cap_cents` integer NOT NULL,
	`armed` integer DEFAULT 1 NOT NULL,
	`refused_in_month` text,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_batches` (
	`transaction_id` integer NOT NULL,
	`department_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`model` text NOT NULL,
	`feature` text NOT NULL,
	`event_count` integer NOT NULL,
	`millicredits` integer NOT NULL,
	`drawn_from_org_millicredits` integer NOT NULL,
	PRIMARY KEY(`transaction_id`, `department_id`, `user_id`, `model`, `feature`)
);
--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`day_key` text NOT NULL,
	`user_id` integer NOT NULL,
	`department_id` integer NOT NULL,
	`model` text NOT NULL,
	`tier` text NOT NULL,
	`feature` text NOT NULL,
	`event_count` integer NOT NULL,
	`millicredits` integer NOT NULL,
	`drawn_from_org_millicredits` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`day_key`, `user_id`, `department_id`, `model`, `feature`)
);
--> statement-breakpoint
CREATE INDEX `usage_daily_department_day` ON `usage_daily` (`department_id`,`day_key`);--> statement-breakpoint
CREATE INDEX `usage_daily_day_totals` ON `usage_daily` (`day_key`,`department_id`,`millicredits`,`event_count`);--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` integer PRIMARY KEY NOT NULL,
	`transaction_id` integer NOT NULL,
	`event_id` text,
	`occurred_at_ms` integer NOT NULL,
	`user_id` integer NOT NULL,
	`department_id` integer NOT NULL,
	`model` text NOT NULL,
	`tier` text NOT NULL,
	`feature` text NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`tool_calls` integer NOT NULL,
	`images` integer NOT NULL,
	`image_size` text NOT NULL,
	`db_access` integer NOT NULL,
	`cost_millicredits` integer NOT NULL,
	`drawn_from_org_millicredits` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_events_event_id` ON `usage_events` (`event_id`);--> statement-breakpoint
CREATE INDEX `usage_events_transaction` ON `usage_events` (`transaction_id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`department_id` integer NOT NULL,
	`created_at_ms` integer NOT NULL,
	FOREIGN KEY (`department_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_nocase` ON `users` ("email" COLLATE NOCASE);--> statement-breakpoint
CREATE INDEX `users_department` ON `users` (`department_id`);