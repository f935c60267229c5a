CREATE TABLE `invoice_cancellations` (
	`number` integer PRIMARY KEY NOT NULL,
	`original_number` integer NOT NULL,
	`issued_at_ms` integer NOT NULL,
	`number_text` text NOT NULL,
	`time_zone` text NOT NULL,
	`reason` text NOT NULL,
	`actor` text NOT NULL,
	FOREIGN KEY (`original_number`) REFERENCES `invoices`(`number`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoice_cancellations_original_number_unique` ON `invoice_cancellations` (`original_number`);--> statement-breakpoint
ALTER TABLE `invoices` ADD `number_text` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `time_zone` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `payment_term_days` integer;--> statement-breakpoint
ALTER TABLE `invoices` ADD `mandate_reference` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `seller_creditor_id` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `debtor_iban` text;--> statement-breakpoint
UPDATE `invoices` SET
  `number_text` = coalesce((SELECT `value` FROM `settings` WHERE `key` = 'org.invoice_prefix'), 'INV-') || printf('%06d', `number`),
  `time_zone` = coalesce((SELECT `value` FROM `settings` WHERE `key` = 'org.time_zone'), 'Europe/Berlin'),
  `payment_term_days` = 14
WHERE `number_text` IS NULL;--> statement-breakpoint
DROP INDEX `invoices_purchase_id_unique`;--> statement-breakpoint
ALTER TABLE `invoices` ADD `cancelled` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_live_purchase` ON `invoices` (`purchase_id`) WHERE "invoices"."cancelled" = 0;
