-- Issue 5, email in depth: domain-level suppressions, the link-signing key, sequence tracking switches,
-- tracking hits (opens, clicks; machine fetches flagged) and how ops resolved an 'unknown' send.

-- 'address': address_hash = SHA-256 of the normalised address; 'domain': SHA-256 of '@' + the lower-cased domain.
alter table suppressions add column kind text not null default 'address';

-- Instance secrets, encrypted with Data Protection (e.g. 'link_key': the HMAC key of unsubscribe and tracking links).
create table server_secrets (
    name text primary key,
    value_protected text not null,
    created_at text not null
);

alter table sequences add column track_opens integer not null default 0;
alter table sequences add column track_clicks integer not null default 0;

create table tracking_hits (
    id text primary key,
    workspace_id text not null references workspaces (id),
    send_id text not null references sends (id),
    enrollment_id text not null references enrollments (id),
    kind text not null,            -- 'open' | 'click'
    url text,                      -- the target of a click
    machine integer not null,      -- a known prefetcher or link scanner, not counted as human
    machine_reason text,
    created_at text not null
);
create index ix_tracking_hits_send on tracking_hits (send_id, kind);

-- An 'unknown' send resolved by ops: 'sent' (it did go out) or 'not_sent' (safe to send again).
alter table sends add column resolution text;
alter table sends add column resolved_at text;
create index ix_sends_unknown on sends (workspace_id, updated_at) where state = 'unknown';
