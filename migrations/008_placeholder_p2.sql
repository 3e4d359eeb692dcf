-- Placeholder on branch p2 only: tern refuses a gap before 009. The real
-- 008 comes from another branch; drop this file when merging it.
SELECT 1;
