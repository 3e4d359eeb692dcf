-- Issue 15: a muted alert still matches (its matches show on the page, live
-- and in its list) but tells no one: no in-page toast or browser
-- notification (the page reads "muted"), no push and no mail (the courier
-- skips it). Pausing, by contrast, stops the matching itself.
ALTER TABLE alerts ADD COLUMN muted boolean NOT NULL DEFAULT false;
