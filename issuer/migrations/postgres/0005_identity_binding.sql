-- Identity checks bound to what they proved (issue 9).
-- An identity document the identity provider verified at sign-in (its registry key), if it
-- gave one: the holder of an application must match it, or an officer must override.
ALTER TABLE applicants ADD COLUMN verified_document TEXT;
-- What the one-time password and the face check proved: a fingerprint of the holder data and
-- the mobile number at the time. A check counts only while the application still says the same.
ALTER TABLE applications ADD COLUMN otp_verified_for TEXT;
ALTER TABLE applications ADD COLUMN face_verified_for TEXT;
-- The sign-in's verified document when it differs from the holder's; and the officer's
-- audited reason for approving all the same.
ALTER TABLE applications ADD COLUMN identity_mismatch TEXT;
ALTER TABLE applications ADD COLUMN identity_override TEXT;
