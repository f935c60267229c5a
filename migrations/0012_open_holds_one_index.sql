-- One partial index of the open holds (department, expiry, status) instead of two: each hold entered both when
-- placed and left both when closed. The expiry reads scan this index (the open holds: the calls in progress, few).
DROP INDEX `holds_open_department`;--> statement-breakpoint
DROP INDEX `holds_open_expiry`;--> statement-breakpoint
CREATE INDEX `holds_open` ON `holds` (`department_id`,`expires_at_ms`,`status`) WHERE "holds"."status" = 'open';