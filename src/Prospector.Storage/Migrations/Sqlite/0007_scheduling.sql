-- Issue 4, scheduling: workspace pause, company time zone, mailbox limits and capacity bookkeeping, slot reservations.
alter table workspaces add column state text not null default 'active';
alter table companies add column time_zone text;

alter table mailboxes add column hourly_cap integer;
alter table mailboxes add column min_gap_seconds integer not null default 0;
alter table mailboxes add column ramp_start integer;
alter table mailboxes add column ramp_step integer;
alter table mailboxes add column ramp_started_at text;
-- Written only by claims (one writer at a time): until when no email slot is free, why, and the latest slot.
alter table mailboxes add column blocked_until text;
alter table mailboxes add column blocked_reason text;
alter table mailboxes add column last_slot_at text;
-- Slots taken on the mailbox's local day slots_day (yyyy-MM-dd): the daily cap's counter.
alter table mailboxes add column slots_day text;
alter table mailboxes add column slots_day_count integer not null default 0;

-- The kind of the current step ('email' needs a mailbox slot; 'task', 'webhook', 'branch' do not).
alter table enrollments add column step_channel text not null default 'email';
alter table enrollments add column wanted_at text;
alter table enrollments add column due_reasons text;

create table mailbox_slots (
    id text primary key,
    workspace_id text not null references workspaces (id),
    mailbox_id text not null references mailboxes (id),
    enrollment_id text not null references enrollments (id),
    step_id text,
    state text not null,
    day text not null,
    wanted_at text,
    due_at text not null,
    slot_at text not null,
    reasons text,
    updated_at text not null
);
create index ix_mailbox_slots_counted on mailbox_slots (mailbox_id, slot_at) where state <> 'released';
create index ix_mailbox_slots_enrollment on mailbox_slots (enrollment_id, step_id);

-- Claims take due rows in (next_due_at, prospect_id) order — deterministic, so a simulation and live dispatch agree
-- on who gets a contended slot. The index serves that order directly, even when thousands are due at one instant.
drop index ix_enrollments_due;
create index ix_enrollments_due on enrollments (next_due_at, prospect_id) where state = 'active';
