-- Nullable and without a default: the previous release keeps inserting rows that do not know this column.
ALTER TABLE items ADD COLUMN note text;
