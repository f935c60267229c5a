-- Nullable: rows written before this column, and on the command line, have no request id.
ALTER TABLE `audit_log` ADD `request_id` text;