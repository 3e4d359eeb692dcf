-- Placeholder (branch webadmin only; delete at merge): migration 012 belongs to
-- another branch, and tern needs the numbers without a gap.
SELECT 1;
