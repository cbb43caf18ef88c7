-- Deleting a user removes their ceremonies in progress: found by user, not by a full scan.
CREATE INDEX webauthn_challenges_user ON webauthn_challenges (user_id);
