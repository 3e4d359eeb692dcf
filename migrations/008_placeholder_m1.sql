-- Placeholder of branch m1 only, so that 010_courier.sql applies here:
-- tern wants contiguous numbers. Delete at merge (the real 008 comes from
-- another branch).
SELECT 1;
