-- Placeholder so that 008 applies on this branch (tern refuses a gap in the
-- numbers). Number 007 belongs to another change landing in parallel: when
-- both are merged, that file replaces this one.
SELECT 1;
