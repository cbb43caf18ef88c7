-- Forward-auth access rules (issue 15): checked in `position` order, the first whose host and
-- path match (and whose subjects include the caller, when it names any) decides. `subjects` is
-- comma-separated `group:admins` / `user:NAME`; empty means everyone.
CREATE TABLE access_rules (
    id TEXT PRIMARY KEY NOT NULL,
    position BIGINT NOT NULL,
    host TEXT NOT NULL,
    path TEXT NOT NULL,
    policy TEXT NOT NULL,
    subjects TEXT NOT NULL
);
CREATE INDEX access_rules_position ON access_rules(position);

-- When this session last proved a second factor: at sign-in (the code step) or on the step-up
-- page. NULL: one factor only (a password alone, a trusted device, single sign-on).
ALTER TABLE sessions ADD COLUMN second_factor_at BIGINT;
