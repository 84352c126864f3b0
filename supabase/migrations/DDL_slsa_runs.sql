-- slsa_runs: the Supabase sink of slsa-provenance-action's audit trail (seed 001 §5).
-- One row per manifest entry, keyed like the manifest (tag + run_id), so a re-run updates its
-- row. Git's manifest stays the source of truth; this table is for KPI queries and forensics.
-- Idempotent: applying it twice is a no-op (tested against PostgreSQL 15 + PostgREST).

create table if not exists public.slsa_runs (
  repository        text,        -- owner/repo: one table serves an organisation's report
  tag               text        not null,
  run_id            bigint      not null,
  run_attempt       integer,
  sha               text        not null,
  actor             text,
  status            text        not null,
  governance_flag   text,
  artifact_url      text,
  release_url       text,
  provenance_sha256 text,        -- content SHA of the statement
  validation_status text,
  failure_reason    text,
  manifest_hash     text,        -- the entry's entry_hash in the manifest's hash chain
  rollback_of       text,
  recorded_at       timestamptz,
  metadata          jsonb       not null default '{}'::jsonb,  -- the whole manifest entry
  updated_at        timestamptz not null default now(),
  constraint slsa_runs_tag_run_id_key primary key (tag, run_id)
);

-- Tables made by an earlier version of this migration gain the column (idempotent).
alter table public.slsa_runs add column if not exists repository text;

-- KPI queries: runs over time (per repository for an organisation's report), by status,
-- failures by reason, validation backlog.
create index if not exists slsa_runs_repository_recorded_at_idx on public.slsa_runs (repository, recorded_at);
create index if not exists slsa_runs_recorded_at_idx on public.slsa_runs (recorded_at desc);
create index if not exists slsa_runs_status_recorded_at_idx on public.slsa_runs (status, recorded_at desc);
create index if not exists slsa_runs_failure_reason_idx on public.slsa_runs (failure_reason)
  where failure_reason is not null;
create index if not exists slsa_runs_validation_status_idx on public.slsa_runs (validation_status);

create or replace function public.slsa_runs_touch() returns trigger
  language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;
drop trigger if exists slsa_runs_touch on public.slsa_runs;
create trigger slsa_runs_touch before update on public.slsa_runs
  for each row execute function public.slsa_runs_touch();

-- The narrow role behind SLSA_MANIFEST_SERVICE_KEY (a JWT whose `role` claim names it).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'slsa_manifest_service') then
    create role slsa_manifest_service nologin noinherit;
  end if;
  -- PostgREST (Supabase's `authenticator`) switches to the JWT's role.
  if exists (select 1 from pg_roles where rolname = 'authenticator') then
    grant slsa_manifest_service to authenticator;
  end if;
end $$;

-- Exactly this table: insert and update (an upsert also reads the conflicting row, so select
-- on this table only). No delete, no other table, no function beyond the default.
grant usage on schema public to slsa_manifest_service;
grant select, insert, update on table public.slsa_runs to slsa_manifest_service;
revoke delete, truncate, references, trigger on table public.slsa_runs from slsa_manifest_service;

-- Row-level security: the service role may write rows; anon/authenticated get nothing unless a
-- policy is added for them.
alter table public.slsa_runs enable row level security;
drop policy if exists slsa_runs_service_select on public.slsa_runs;
create policy slsa_runs_service_select on public.slsa_runs
  for select to slsa_manifest_service using (true);
drop policy if exists slsa_runs_service_insert on public.slsa_runs;
create policy slsa_runs_service_insert on public.slsa_runs
  for insert to slsa_manifest_service with check (true);
drop policy if exists slsa_runs_service_update on public.slsa_runs;
create policy slsa_runs_service_update on public.slsa_runs
  for update to slsa_manifest_service using (true) with check (true);
