-- Where a single sign-on started from forward-auth's sign-in page goes back to (`rd`), kept
-- with the flow on the server (checked when stored), so the callback on any node returns there.
ALTER TABLE oidc_flows ADD COLUMN return_to TEXT;
