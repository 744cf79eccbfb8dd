-- Imports count their runs, so one that keeps failing unexpectedly ends 'failed' instead of staying 'running'.
alter table imports add column attempts integer not null default 0;
