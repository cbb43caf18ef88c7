-- Counted attempts get an explicit id (the SQLite file had only its rowid): refunds name it.
ALTER TABLE rate_limit_hits ADD COLUMN id BIGSERIAL PRIMARY KEY;
