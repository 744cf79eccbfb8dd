-- Issue 5, email in depth: domain-level suppressions, the link-signing key, sequence tracking switches,
-- tracking hits (opens, clicks; machine fetches flagged) and how ops resolved an 'unknown' send.

-- 'address': address_hash = SHA-256 of the normalised address; 'domain': SHA-256 of '@' + the lower-cased domain.
alter table suppressions add column kind text not null default 'address';

-- Instance secrets, encrypted with Data Protection (e.g. 'link_key': the HMAC key of unsubscribe and tracking links).
create table server_secrets (
    name text primary key,
    value_protected text not null,
    created_at timestamptz not null
);

alter table sequences add column track_opens boolean not null default false;
alter table sequences add column track_clicks boolean not null default false;

create table tracking_hits (
    id uuid primary key,
    workspace_id uuid not null references workspaces (id),
    send_id uuid not null references sends (id),
    enrollment_id uuid not null references enrollments (id),
    kind text not null,            -- 'open' | 'click'
    url text,                      -- the target of a click
    machine boolean not null,      -- a known prefetcher or link scanner, not counted as human
    machine_reason text,
    created_at timestamptz not null
);
create index ix_tracking_hits_send on tracking_hits (send_id, kind);

-- An 'unknown' send resolved by ops: 'sent' (it did go out) or 'not_sent' (safe to send again).
alter table sends add column resolution text;
alter table sends add column resolved_at timestamptz;
create index ix_sends_unknown on sends (workspace_id, updated_at) where state = 'unknown';
