-- Prospector schema, SQLite (ids and times as TEXT: canonical lower-case UUIDs, ISO-8601 UTC). Forward-only: never edit a released migration, add the next number.
create table workspaces (
    id text primary key,
    name text not null,
    created_at text not null
);

create table api_keys (
    id text primary key,
    workspace_id text not null references workspaces (id),
    name text not null,
    prefix text not null,
    key_hash text not null unique,
    role text not null,
    created_at text not null,
    revoked_at text
);

create table data_protection_keys (
    name text primary key,
    xml text not null,
    created_at text not null
);

create table mailboxes (
    id text primary key,
    workspace_id text not null references workspaces (id),
    name text not null,
    from_address text not null,
    from_name text not null,
    daily_cap integer not null,
    smtp_host text not null,
    smtp_port integer not null,
    smtp_security text not null,
    smtp_username text,
    smtp_password_protected text,
    imap_host text,
    imap_port integer,
    imap_security text,
    imap_username text,
    imap_password_protected text,
    imap_folder text not null default 'INBOX',
    created_at text not null
);
create index ix_mailboxes_workspace on mailboxes (workspace_id);

create table mailbox_sync (
    mailbox_id text primary key references mailboxes (id),
    uid_validity bigint not null,
    last_uid bigint not null,
    synced_at text not null
);

create table sequences (
    id text primary key,
    workspace_id text not null references workspaces (id),
    name text not null,
    state text not null,
    version integer not null,
    definition text not null,
    created_at text not null,
    updated_at text not null
);
create index ix_sequences_workspace on sequences (workspace_id);

create table prospects (
    id text primary key,
    workspace_id text not null references workspaces (id),
    email text not null,
    email_normalized text not null,
    first_name text,
    last_name text,
    company text,
    company_domain text,
    time_zone text,
    custom_fields text not null default '{}',
    created_at text not null,
    updated_at text not null,
    unique (workspace_id, email_normalized)
);

create table enrollments (
    id text primary key,
    workspace_id text not null references workspaces (id),
    sequence_id text not null references sequences (id),
    sequence_version integer not null,
    prospect_id text not null references prospects (id),
    mailbox_id text not null references mailboxes (id),
    state text not null,
    stop_reason text,
    current_step integer not null,
    next_due_at text,
    lease_until text,
    thread_message_id text,
    thread_subject text,
    created_at text not null,
    updated_at text not null,
    unique (sequence_id, prospect_id)
);
-- Partial index: claimed and finished rows leave it, so the claim scan stays short (see DESIGN.md).
create index ix_enrollments_due on enrollments (next_due_at) where state = 'active';
create index ix_enrollments_prospect on enrollments (prospect_id);
create index ix_enrollments_workspace on enrollments (workspace_id, sequence_id);

create table sends (
    id text primary key,
    workspace_id text not null references workspaces (id),
    enrollment_id text not null references enrollments (id),
    step_id text not null,
    mailbox_id text not null references mailboxes (id),
    message_id text not null unique,
    state text not null,
    attempts integer not null,
    subject text,
    smtp_status integer,
    last_error text,
    created_at text not null,
    updated_at text not null,
    sent_at text,
    unique (enrollment_id, step_id)
);

create table enrollment_events (
    id integer primary key autoincrement,
    workspace_id text not null,
    enrollment_id text not null references enrollments (id),
    type text not null,
    detail text,
    occurred_at text not null
);
create index ix_enrollment_events_enrollment on enrollment_events (enrollment_id, id);

create table inbound_messages (
    id text primary key,
    workspace_id text not null references workspaces (id),
    mailbox_id text not null references mailboxes (id),
    uid_validity bigint not null,
    uid bigint not null,
    kind text not null,
    reason text not null,
    enrollment_id text references enrollments (id),
    received_at text not null,
    unique (mailbox_id, uid_validity, uid)
);

create table suppressions (
    workspace_id text not null references workspaces (id),
    address_hash text not null,
    reason text not null,
    created_at text not null,
    primary key (workspace_id, address_hash)
);

create table qualifications (
    id text primary key,
    workspace_id text not null references workspaces (id),
    enrollment_id text not null references enrollments (id),
    inbound_message_id text not null references inbound_messages (id),
    score integer not null,
    qualified integer not null,
    reasons text not null,
    created_at text not null
);
create index ix_qualifications_enrollment on qualifications (enrollment_id);

create table crm_connections (
    workspace_id text primary key references workspaces (id),
    kind text not null,
    endpoint text not null,
    secret_protected text not null,
    updated_at text not null
);

create table crm_outbox (
    id text primary key,
    workspace_id text not null references workspaces (id),
    enrollment_id text not null references enrollments (id),
    event_type text not null,
    payload text not null,
    state text not null,
    attempts integer not null,
    next_attempt_at text not null,
    last_status integer,
    last_error text,
    external_id text,
    created_at text not null,
    delivered_at text,
    unique (enrollment_id, event_type)
);
create index ix_crm_outbox_due on crm_outbox (next_attempt_at) where state = 'pending';
