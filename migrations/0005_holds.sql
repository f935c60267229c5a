CREATE TABLE `holds` (
	`id` integer PRIMARY KEY NOT NULL,
	`event_id` text,
	`user_id` integer NOT NULL,
	`department_id` integer NOT NULL,
	`model` text NOT NULL,
	`tier` text NOT NULL,
	`feature` text NOT NULL,
	`max_millicredits` integer NOT NULL,
	`from_org_millicredits` integer DEFAULT 0 NOT NULL,
	`actor` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`expires_at_ms` integer NOT NULL,
	`status` text NOT NULL,
	`captured_millicredits` integer,
	`captured_event_id` text,
	`closed_at_ms` integer,
	CONSTRAINT "holds_amounts" CHECK("holds"."max_millicredits" > 0 AND "holds"."from_org_millicredits" >= 0 AND "holds"."from_org_millicredits" <= "holds"."max_millicredits")
);
--> statement-breakpoint
CREATE UNIQUE INDEX `holds_event_id` ON `holds` (`event_id`) WHERE "holds"."event_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `holds_open_department` ON `holds` (`department_id`) WHERE "holds"."status" = 'open';--> statement-breakpoint
CREATE INDEX `holds_open_expiry` ON `holds` (`expires_at_ms`) WHERE "holds"."status" = 'open';