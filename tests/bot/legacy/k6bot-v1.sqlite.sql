-- A k6bot database at schema version 1 ("k6bot_meta".schema_version), as the pre-Alembic k6bot made it
-- (bot/store.py of commit 12c6478, migration 1 only), with a few rows in every table. Made once by running
-- that code and dumping the result (sqlite3 iterdump); tests load it to check that upgrading keeps every row.
BEGIN TRANSACTION;
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	frontend VARCHAR(20) NOT NULL, 
	actor_id VARCHAR(200) NOT NULL, 
	actor_name VARCHAR(200), 
	channel_id VARCHAR(100), 
	operation VARCHAR(100) NOT NULL, 
	safety VARCHAR(20) NOT NULL, 
	target VARCHAR(500) NOT NULL, 
	arguments JSON NOT NULL, 
	decision VARCHAR(20) NOT NULL, 
	result VARCHAR(20) NOT NULL, 
	detail TEXT NOT NULL, 
	confirmation_id VARCHAR(36), 
	PRIMARY KEY (id)
);
INSERT INTO "audit_log" VALUES(1,'2025-01-15 10:00:00.000000','slack','U0ALICE','alice','C0LOADTEST','start_load_test','costly','Orders API Soak Test (501)','{"load_test": 501}','confirmed','ok','run 1235','11111111-2222-3333-4444-555555555555');
CREATE TABLE confirmations (
	id VARCHAR(36) NOT NULL, 
	operation VARCHAR(100) NOT NULL, 
	arguments JSON NOT NULL, 
	prepared JSON NOT NULL, 
	frontend VARCHAR(20) NOT NULL, 
	actor_id VARCHAR(200) NOT NULL, 
	actor_name VARCHAR(200), 
	channel_id VARCHAR(100), 
	state VARCHAR(20) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	decided_at DATETIME, 
	result JSON, 
	context JSON NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "confirmations" VALUES('11111111-2222-3333-4444-555555555555','start_load_test','{"load_test": 501}','{"load_test_id": 501}','slack','U0ALICE','alice','C0LOADTEST','done','2025-01-15 10:00:00.000000','2025-01-15 10:10:00.000000','2025-01-15 10:00:00.000000','{"test_run_id": 1235}','{"thread_ts": "1700000000.000100"}');
CREATE TABLE k6bot_meta (
	"key" VARCHAR(100) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "k6bot_meta" VALUES('schema_version','1');
INSERT INTO "k6bot_meta" VALUES('watcher.cursor','2025-01-15T10:00:00+00:00');
CREATE TABLE leases (
	name VARCHAR(100) NOT NULL, 
	holder VARCHAR(200) NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (name)
);
INSERT INTO "leases" VALUES('watcher','host:1:abc','2025-01-15 10:00:45.000000');
CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	dedupe_key VARCHAR(300) NOT NULL, 
	method VARCHAR(50) NOT NULL, 
	payload JSON NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	claimed_by VARCHAR(100), 
	claimed_until DATETIME, 
	last_error TEXT, 
	slack_ts VARCHAR(50), 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (dedupe_key)
);
INSERT INTO "outbox" VALUES(1,'finished:1234:C0LOADTEST:top','chat.postMessage','{"channel": "C0LOADTEST", "text": "done"}','sent',1,'2025-01-15 10:00:00.000000',NULL,NULL,NULL,'1700000000.000200','2025-01-15 10:00:00.000000','2025-01-15 10:00:00.000000');
CREATE TABLE subscriptions (
	id INTEGER NOT NULL, 
	channel_id VARCHAR(100) NOT NULL, 
	load_test_id BIGINT, 
	load_test_name VARCHAR(300), 
	failures_only BOOLEAN NOT NULL, 
	created_by VARCHAR(200), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_subscription_channel_test UNIQUE (channel_id, load_test_id)
);
INSERT INTO "subscriptions" VALUES(1,'C0LOADTEST',NULL,NULL,0,'U0ALICE','2025-01-15 10:00:00.000000');
INSERT INTO "subscriptions" VALUES(2,'C0LOADTEST',NULL,NULL,0,'U0ALICE','2025-01-15 10:00:00.000000');
INSERT INTO "subscriptions" VALUES(3,'C0LOADTEST',NULL,NULL,1,'U0ALICE','2025-01-15 10:00:00.000000');
INSERT INTO "subscriptions" VALUES(4,'C0OTHER',NULL,NULL,0,NULL,'2025-01-15 10:00:00.000000');
INSERT INTO "subscriptions" VALUES(5,'C0LOADTEST',501,'Orders API Soak Test',0,NULL,'2025-01-15 10:00:00.000000');
CREATE TABLE watched_runs (
	run_id BIGINT NOT NULL, 
	load_test_id BIGINT NOT NULL, 
	load_test_name VARCHAR(300), 
	origin VARCHAR(20) NOT NULL, 
	channel_id VARCHAR(100), 
	thread_ts VARCHAR(50), 
	message_ts VARCHAR(50), 
	starter_id VARCHAR(200), 
	status VARCHAR(30) NOT NULL, 
	result VARCHAR(20), 
	estimated_duration FLOAT, 
	progress_updated_at DATETIME, 
	finished_at DATETIME, 
	notified BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (run_id)
);
INSERT INTO "watched_runs" VALUES(1235,501,'Orders API Soak Test','slack','C0LOADTEST','1700000000.000100',NULL,'U0ALICE','running',NULL,1800.0,NULL,NULL,0,'2025-01-15 10:00:00.000000');
CREATE INDEX ix_confirmations_state ON confirmations (state);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE INDEX ix_subscriptions_channel_id ON subscriptions (channel_id);
CREATE INDEX ix_watched_runs_notified ON watched_runs (notified);
CREATE INDEX ix_watched_runs_load_test_id ON watched_runs (load_test_id);
CREATE INDEX ix_outbox_due ON outbox (state, next_attempt_at);
COMMIT;
