-- The bureau's archive copy (issue 15, SPEC §3): with `[archive] document_timestamp = true`,
-- the certificate extended to PAdES B-LTA by a document time-stamp from the bureau's TSA, kept
-- beside the holder's B-LT copy. NULL when the switch was off at issuance.
ALTER TABLE certificates ADD COLUMN archive_pdf BLOB;
