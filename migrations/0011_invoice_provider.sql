ALTER TABLE `invoices` ADD `seller_name` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `seller_address` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `seller_vat_id` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `seller_tax_number` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `seller_iban` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `seller_bic` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `seller_bank_name` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `seller_email` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `buyer_country` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `buyer_leitweg_id` text;--> statement-breakpoint
ALTER TABLE `invoices` ADD `tax_case` text DEFAULT 'domestic' NOT NULL;--> statement-breakpoint
ALTER TABLE `invoices` ADD `net_cents` integer;--> statement-breakpoint
ALTER TABLE `invoices` ADD `vat_cents` integer;--> statement-breakpoint
ALTER TABLE `invoices` ADD `gross_cents` integer;