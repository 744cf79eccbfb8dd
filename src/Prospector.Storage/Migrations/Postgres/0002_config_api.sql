-- Issue 3: owners, mailbox schedule settings, companies, LinkedIn identity, audiences, imports, sequence versions, tasks.
alter table workspaces add column postal_address text;
alter table workspaces add column settings text not null default '{}';

alter table api_keys add column created_by uuid;

-- Reps/SDRs. Prospects, enrollments, tasks and mailboxes belong to an owner (per-rep KPIs come from this).
create table owners (
    id uuid primary key,
    workspace_id uuid not null references workspaces (id),
    name text not null,
    email text,
    email_normalized text,
    state text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index ix_owners_workspace on owners (workspace_id, id);
create unique index ux_owners_email on owners (workspace_id, email_normalized) where email_normalized is not null;

alter table mailboxes add column owner_id uuid references owners (id);
alter table mailboxes add column signature text;
alter table mailboxes add column time_zone text not null default 'UTC';
-- Sending window in the mailbox's time zone: minutes after midnight, and the days of the week (mon,tue,...).
alter table mailboxes add column window_start_minute integer not null default 480;
alter table mailboxes add column window_end_minute integer not null default 1080;
alter table mailboxes add column window_days text not null default 'mon,tue,wed,thu,fri';
alter table mailboxes add column state text not null default 'active';
alter table mailboxes add column updated_at timestamptz;

create table companies (
    id uuid primary key,
    workspace_id uuid not null references workspaces (id),
    domain text not null,
    name text,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (workspace_id, domain)
);

-- A prospect is known by a normalised email, a normalised LinkedIn profile URL, or both.
alter table prospects alter column email drop not null;
alter table prospects alter column email_normalized drop not null;
alter table prospects add column linkedin_url text;
alter table prospects add column linkedin_url_normalized text;
alter table prospects add column title text;
alter table prospects add column phone text;
alter table prospects add column country text;
alter table prospects add column company_id uuid references companies (id);
alter table prospects add column owner_id uuid references owners (id);
alter table prospects add constraint ck_prospects_identity check (email_normalized is not null or linkedin_url_normalized is not null);
create unique index ux_prospects_linkedin on prospects (workspace_id, linkedin_url_normalized) where linkedin_url_normalized is not null;
create index ix_prospects_workspace on prospects (workspace_id, id);
create index ix_prospects_company on prospects (company_id);
create index ix_prospects_owner on prospects (owner_id);

-- Custom field names seen in a workspace: template variables are checked against them at save time.
create table custom_fields (
    workspace_id uuid not null references workspaces (id),
    name text not null,
    created_at timestamptz not null,
    primary key (workspace_id, name)
);

create table audiences (
    id uuid primary key,
    workspace_id uuid not null references workspaces (id),
    name text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index ix_audiences_workspace on audiences (workspace_id, id);

create table audience_members (
    audience_id uuid not null references audiences (id),
    prospect_id uuid not null references prospects (id),
    added_at timestamptz not null,
    primary key (audience_id, prospect_id)
);
create index ix_audience_members_prospect on audience_members (prospect_id);

-- Imports run as Hangfire jobs. The upload is kept in chunks in the database so that any worker can read it.
create table imports (
    id uuid primary key,
    workspace_id uuid not null references workspaces (id),
    audience_id uuid references audiences (id),
    owner_id uuid references owners (id),
    format text not null,
    state text not null,
    options text not null default '{}',
    bytes bigint not null default 0,
    rows_total integer,
    rows_done integer not null default 0,
    rows_created integer not null default 0,
    rows_updated integer not null default 0,
    rows_failed integer not null default 0,
    error text,
    created_at timestamptz not null,
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz not null
);
create index ix_imports_workspace on imports (workspace_id, id);

create table import_chunks (
    import_id uuid not null references imports (id),
    seq integer not null,
    data bytea not null,
    primary key (import_id, seq)
);

create table import_errors (
    import_id uuid not null references imports (id),
    row_number integer not null,
    field text not null,
    message text not null,
    primary key (import_id, row_number, field)
);

-- Immutable sequence versions. sequences.version/definition mirror the newest version for listing.
create table sequence_versions (
    sequence_id uuid not null references sequences (id),
    version integer not null,
    definition text not null,
    created_at timestamptz not null,
    primary key (sequence_id, version)
);
insert into sequence_versions (sequence_id, version, definition, created_at)
select id, version, definition, created_at from sequences;
alter table sequences add column owner_id uuid references owners (id);
alter table sequences add column settings text not null default '{}';

alter table enrollments add column owner_id uuid references owners (id);
create index ix_enrollments_owner on enrollments (owner_id);

-- SDR tasks created by linkedin_*, call and manual_task steps; the enrollment waits until the task is done.
create table tasks (
    id uuid primary key,
    workspace_id uuid not null references workspaces (id),
    enrollment_id uuid not null references enrollments (id),
    step_id text not null,
    owner_id uuid references owners (id),
    type text not null,
    title text not null,
    body text,
    state text not null,
    outcome text,
    due_at timestamptz not null,
    created_at timestamptz not null,
    completed_at timestamptz,
    unique (enrollment_id, step_id)
);
create index ix_tasks_inbox on tasks (workspace_id, state, due_at);
create index ix_tasks_owner on tasks (owner_id, state, due_at);
