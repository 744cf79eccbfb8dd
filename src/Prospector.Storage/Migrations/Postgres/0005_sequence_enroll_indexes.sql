-- Issue 3, sequences: least-loaded mailbox rotation counts active enrollments per mailbox; sequences are listed by id.
create index ix_enrollments_mailbox_active on enrollments (mailbox_id) where state = 'active';
create index ix_sequences_workspace_id on sequences (workspace_id, id);
