CREATE TABLE `writer_lease` (
	`ledger` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`url` text NOT NULL,
	`expires_ms` integer NOT NULL,
	`write_seq` integer DEFAULT 0 NOT NULL,
	CONSTRAINT "lease_lost" CHECK("writer_lease"."expires_ms" >= 0)
);
--> statement-breakpoint
-- The one lease row: nobody holds it yet (expired at 0), so the first `serve --advertise-url` takes it.
INSERT INTO `writer_lease` (`ledger`, `holder`, `url`, `expires_ms`) VALUES ('main', '', '', 0);
