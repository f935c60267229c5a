-- Sealing reads the records after its write's mark by primary key (src/store/stateLog.ts): the partial index of
-- unsealed records only cost two index writes per record (in when appended, out when sealed).
DROP INDEX `state_log_unsealed`;