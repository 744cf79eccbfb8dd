-- Outgoing webhook steps: one row per (enrollment, step). Its id is the stable Idempotency-Key / webhook-id sent with
-- every attempt, so receivers can drop retries; attempts count the tries for the retry budget.
create table webhook_calls (
    id uuid primary key,
    workspace_id uuid not null references workspaces (id),
    enrollment_id uuid not null references enrollments (id),
    step_id text not null,
    state text not null,
    attempts integer not null,
    last_status integer,
    last_error text,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (enrollment_id, step_id)
);
