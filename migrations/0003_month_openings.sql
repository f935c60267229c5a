CREATE TABLE `account_month_openings` (
	`account_id` integer NOT NULL,
	`month_key` text NOT NULL,
	`opening_millicredits` integer NOT NULL,
	PRIMARY KEY(`account_id`, `month_key`)
);
