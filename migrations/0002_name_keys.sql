-- The keys of rows already there are computed in JavaScript (NFKC and case folding), by src/store/nameKeys.ts in the same transaction.
ALTER TABLE `accounts` ADD `name_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_name_key` ON `accounts` (`name_key`);--> statement-breakpoint
ALTER TABLE `users` ADD `email_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email_key`);