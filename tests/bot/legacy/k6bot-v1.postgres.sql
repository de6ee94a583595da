-- A k6bot database at schema version 1 ("k6bot_meta".schema_version), as the pre-Alembic k6bot made it
-- (bot/store.py of commit 12c6478, migration 1 only), with a few rows in every table. Made once by running
-- that code and dumping the result (pg_dump --inserts, psql-only and SET lines removed); tests load it to check that upgrading keeps every row.
CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    frontend character varying(20) NOT NULL,
    actor_id character varying(200) NOT NULL,
    actor_name character varying(200),
    channel_id character varying(100),
    operation character varying(100) NOT NULL,
    safety character varying(20) NOT NULL,
    target character varying(500) NOT NULL,
    arguments json NOT NULL,
    decision character varying(20) NOT NULL,
    result character varying(20) NOT NULL,
    detail text NOT NULL,
    confirmation_id character varying(36)
);
CREATE SEQUENCE public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.audit_log_id_seq OWNED BY public.audit_log.id;
CREATE TABLE public.confirmations (
    id character varying(36) NOT NULL,
    operation character varying(100) NOT NULL,
    arguments json NOT NULL,
    prepared json NOT NULL,
    frontend character varying(20) NOT NULL,
    actor_id character varying(200) NOT NULL,
    actor_name character varying(200),
    channel_id character varying(100),
    state character varying(20) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    decided_at timestamp with time zone,
    result json,
    context json NOT NULL
);
CREATE TABLE public.k6bot_meta (
    key character varying(100) NOT NULL,
    value text NOT NULL
);
CREATE TABLE public.leases (
    name character varying(100) NOT NULL,
    holder character varying(200) NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE TABLE public.outbox (
    id bigint NOT NULL,
    dedupe_key character varying(300) NOT NULL,
    method character varying(50) NOT NULL,
    payload json NOT NULL,
    state character varying(20) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    claimed_by character varying(100),
    claimed_until timestamp with time zone,
    last_error text,
    slack_ts character varying(50),
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone
);
CREATE SEQUENCE public.outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.outbox_id_seq OWNED BY public.outbox.id;
CREATE TABLE public.subscriptions (
    id bigint NOT NULL,
    channel_id character varying(100) NOT NULL,
    load_test_id bigint,
    load_test_name character varying(300),
    failures_only boolean NOT NULL,
    created_by character varying(200),
    created_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE public.subscriptions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.subscriptions_id_seq OWNED BY public.subscriptions.id;
CREATE TABLE public.watched_runs (
    run_id bigint NOT NULL,
    load_test_id bigint NOT NULL,
    load_test_name character varying(300),
    origin character varying(20) NOT NULL,
    channel_id character varying(100),
    thread_ts character varying(50),
    message_ts character varying(50),
    starter_id character varying(200),
    status character varying(30) NOT NULL,
    result character varying(20),
    estimated_duration double precision,
    progress_updated_at timestamp with time zone,
    finished_at timestamp with time zone,
    notified boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);
ALTER TABLE ONLY public.audit_log ALTER COLUMN id SET DEFAULT nextval('public.audit_log_id_seq'::regclass);
ALTER TABLE ONLY public.outbox ALTER COLUMN id SET DEFAULT nextval('public.outbox_id_seq'::regclass);
ALTER TABLE ONLY public.subscriptions ALTER COLUMN id SET DEFAULT nextval('public.subscriptions_id_seq'::regclass);
INSERT INTO public.audit_log VALUES (1, '2025-01-15 10:00:00+00', 'slack', 'U0ALICE', 'alice', 'C0LOADTEST', 'start_load_test', 'costly', 'Orders API Soak Test (501)', '{"load_test": 501}', 'confirmed', 'ok', 'run 1235', '11111111-2222-3333-4444-555555555555');
INSERT INTO public.confirmations VALUES ('11111111-2222-3333-4444-555555555555', 'start_load_test', '{"load_test": 501}', '{"load_test_id": 501}', 'slack', 'U0ALICE', 'alice', 'C0LOADTEST', 'done', '2025-01-15 10:00:00+00', '2025-01-15 10:10:00+00', '2025-01-15 10:00:00+00', '{"test_run_id": 1235}', '{"thread_ts": "1700000000.000100"}');
INSERT INTO public.k6bot_meta VALUES ('schema_version', '1');
INSERT INTO public.k6bot_meta VALUES ('watcher.cursor', '2025-01-15T10:00:00+00:00');
INSERT INTO public.leases VALUES ('watcher', 'host:1:abc', '2025-01-15 10:00:45+00');
INSERT INTO public.outbox VALUES (1, 'finished:1234:C0LOADTEST:top', 'chat.postMessage', '{"channel": "C0LOADTEST", "text": "done"}', 'sent', 1, '2025-01-15 10:00:00+00', NULL, NULL, NULL, '1700000000.000200', '2025-01-15 10:00:00+00', '2025-01-15 10:00:00+00');
INSERT INTO public.subscriptions VALUES (1, 'C0LOADTEST', NULL, NULL, false, 'U0ALICE', '2025-01-15 10:00:00+00');
INSERT INTO public.subscriptions VALUES (2, 'C0LOADTEST', NULL, NULL, false, 'U0ALICE', '2025-01-15 10:00:00+00');
INSERT INTO public.subscriptions VALUES (3, 'C0LOADTEST', NULL, NULL, true, 'U0ALICE', '2025-01-15 10:00:00+00');
INSERT INTO public.subscriptions VALUES (4, 'C0OTHER', NULL, NULL, false, NULL, '2025-01-15 10:00:00+00');
INSERT INTO public.subscriptions VALUES (5, 'C0LOADTEST', 501, 'Orders API Soak Test', false, NULL, '2025-01-15 10:00:00+00');
INSERT INTO public.watched_runs VALUES (1235, 501, 'Orders API Soak Test', 'slack', 'C0LOADTEST', '1700000000.000100', NULL, 'U0ALICE', 'running', NULL, 1800, NULL, NULL, false, '2025-01-15 10:00:00+00');
SELECT pg_catalog.setval('public.audit_log_id_seq', 1, true);
SELECT pg_catalog.setval('public.outbox_id_seq', 1, true);
SELECT pg_catalog.setval('public.subscriptions_id_seq', 5, true);
ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.confirmations
    ADD CONSTRAINT confirmations_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.k6bot_meta
    ADD CONSTRAINT k6bot_meta_pkey PRIMARY KEY (key);
ALTER TABLE ONLY public.leases
    ADD CONSTRAINT leases_pkey PRIMARY KEY (name);
ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_dedupe_key_key UNIQUE (dedupe_key);
ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.subscriptions
    ADD CONSTRAINT subscriptions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.subscriptions
    ADD CONSTRAINT uq_subscription_channel_test UNIQUE (channel_id, load_test_id);
ALTER TABLE ONLY public.watched_runs
    ADD CONSTRAINT watched_runs_pkey PRIMARY KEY (run_id);
CREATE INDEX ix_audit_log_at ON public.audit_log USING btree (at);
CREATE INDEX ix_confirmations_state ON public.confirmations USING btree (state);
CREATE INDEX ix_outbox_due ON public.outbox USING btree (state, next_attempt_at);
CREATE INDEX ix_subscriptions_channel_id ON public.subscriptions USING btree (channel_id);
CREATE INDEX ix_watched_runs_load_test_id ON public.watched_runs USING btree (load_test_id);
CREATE INDEX ix_watched_runs_notified ON public.watched_runs USING btree (notified);
