/* The store: one SQLite file in WAL mode, migrated on PRAGMA user_version. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mcr.h"
#include "storeint.h"

/*
 * Each entry moves the schema from version i to i + 1.  Never edit one
 * that has shipped: add another.
 */
static const char *const migrations[] = {
	/* 1: files, calls, cases, opt-outs */
	"CREATE TABLE files ("
	"  path TEXT PRIMARY KEY,"
	"  dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
	"  offset INTEGER NOT NULL, line INTEGER NOT NULL,"
	"  head INTEGER NOT NULL, headlen INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE calls ("
	"  id INTEGER PRIMARY KEY,"
	"  gkey TEXT NOT NULL UNIQUE,"	/* format:native group key */
	"  direction TEXT NOT NULL,"	/* in, out, internal */
	"  caller TEXT,"		/* E.164; NULL when withheld/invalid */
	"  caller_type TEXT NOT NULL,"
	"  caller_country TEXT,"
	"  caller_name TEXT,"
	"  called TEXT,"
	"  started_at INTEGER NOT NULL,"
	"  answered_at INTEGER,"	/* a person answered */
	"  ended_at INTEGER,"
	"  ring_s INTEGER, talk_s INTEGER,"
	"  res INTEGER NOT NULL,"	/* the strongest leg result */
	"  outcome TEXT,"		/* NULL: not decided yet */
	"  missed INTEGER NOT NULL DEFAULT 0,"
	"  after_hours INTEGER NOT NULL DEFAULT 0,"
	"  detail TEXT,"		/* what the deciding row said */
	"  source_id INTEGER,"		/* its file, in sources */
	"  source_line INTEGER,"	/* and line */
	"  flags INTEGER NOT NULL DEFAULT 0,"
	"  legs BLOB NOT NULL,"		/* 8-byte fingerprints of its rows */
	"  case_id INTEGER,"
	"  alias TEXT);"			/* another leg's key (FreeSWITCH) */
	"CREATE INDEX calls_alias ON calls(alias) WHERE alias IS NOT NULL;"
	"CREATE TABLE sources ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE);"
	"CREATE VIEW calls_source AS SELECT calls.*, sources.name || ':' || "
	"  calls.source_line AS source FROM calls LEFT JOIN sources ON "
	"  sources.id = calls.source_id;"
	"CREATE INDEX calls_started ON calls(started_at);"
	"CREATE INDEX calls_undecided ON calls(started_at) "
	"  WHERE outcome IS NULL;"
	"CREATE TABLE cases ("
	"  id INTEGER PRIMARY KEY,"
	"  caller TEXT,"
	"  caller_type TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  reason TEXT,"
	"  opened_at INTEGER NOT NULL,"	/* the first missed call */
	"  last_call_at INTEGER NOT NULL,"
	"  calls INTEGER NOT NULL DEFAULT 1,"
	"  after_hours INTEGER NOT NULL DEFAULT 0,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX cases_caller ON cases(caller, id);"
	"CREATE INDEX cases_open ON cases(state) WHERE state = 'new' OR "
	"  state = 'sending' OR state = 'messaged' OR state = 'replied' OR "
	"  state = 'offered';"
	"CREATE TABLE case_events ("
	"  case_id INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  reason TEXT,"
	"  call_id INTEGER);"
	"CREATE INDEX case_events_case ON case_events(case_id);"
	"CREATE TABLE optouts ("
	"  number TEXT PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  source TEXT);",
	/* 2: returning patients, for the wording of their message */
	"CREATE TABLE patients ("
	"  number TEXT PRIMARY KEY,"	/* E.164 */
	"  first_name TEXT,"
	"  recall TEXT,"		/* the reason they are due, if any */
	"  updated_at INTEGER NOT NULL);",
	/* 3: messages, each claimed before its request leaves */
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL,"
	"  step TEXT NOT NULL,"		/* first, sms, followup1, ... */
	"  kind TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"	/* whatsapp, sms */
	"  provider TEXT NOT NULL,"
	"  to_number TEXT NOT NULL,"
	"  status TEXT NOT NULL,"	/* sending, retry, sent, delivered, "
					   read, failed, uncertain */
	"  provider_id TEXT,"
	"  error TEXT,"
	"  body TEXT,"			/* the local text, for staff */
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  claim_pid INTEGER,"		/* the process sending it */
	"  claim_ms INTEGER,"		/* real clock at the last attempt */
	"  created_at INTEGER NOT NULL,"
	"  sent_at INTEGER,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE (case_id, step));"
	"CREATE INDEX messages_to ON messages(to_number, claim_ms);"
	"CREATE INDEX messages_rate ON messages(channel, claim_ms);"
	"CREATE INDEX messages_provider_id ON messages(provider_id) "
	"  WHERE provider_id IS NOT NULL;"
	"CREATE INDEX messages_live ON messages(status) "
	"  WHERE status = 'sending' OR status = 'retry';",
	/* 4: the conversation: webhooks, transcript, slots, bookings */
	"CREATE TABLE inbox ("		/* webhook payloads, stored before 200 */
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"		/* meta, twilio */
	"  payload TEXT NOT NULL,"
	"  done INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX inbox_waiting ON inbox(id) WHERE done = 0;"
	"CREATE TABLE seen ("		/* each message and receipt once */
	"  key TEXT PRIMARY KEY,"
	"  at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE transcript ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  dir TEXT NOT NULL,"		/* in, out */
	"  channel TEXT NOT NULL,"
	"  body TEXT,"
	"  intent TEXT);"
	"CREATE INDEX transcript_case ON transcript(case_id, id);"
	"ALTER TABLE cases ADD COLUMN last_in_at INTEGER;"	/* the window */
	"ALTER TABLE cases ADD COLUMN channel TEXT;"	/* of the last reply */
	"ALTER TABLE cases ADD COLUMN misses INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cases ADD COLUMN user_id TEXT;"	/* a BSUID */
	"CREATE INDEX cases_user ON cases(user_id) WHERE user_id IS NOT NULL;"
	"CREATE TABLE slots ("
	"  id INTEGER PRIMARY KEY,"
	"  start INTEGER NOT NULL,"
	"  end INTEGER NOT NULL,"
	"  clinician TEXT NOT NULL DEFAULT '',"
	"  type TEXT,"
	"  held_by INTEGER,"		/* the case it is offered to */
	"  held_until INTEGER,"
	"  booked_by INTEGER,"
	"  UNIQUE (start, clinician));"
	"CREATE INDEX slots_free ON slots(start) WHERE booked_by IS NULL;"
	"CREATE TABLE bookings ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL,"
	"  slot_id INTEGER NOT NULL,"
	"  number TEXT,"
	"  at INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"	/* booked, cancelled */
	"  hook TEXT);"			/* what the hook command said */
	"CREATE UNIQUE INDEX bookings_slot ON bookings(slot_id) "
	"  WHERE status = 'booked';"
	"CREATE TABLE escalations ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  urgent INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  transcript TEXT NOT NULL,"
	"  notified TEXT);",
	/* 5: the report reads cases by the time they opened, and theirs */
	"CREATE INDEX cases_opened ON cases(opened_at);"
	"CREATE INDEX calls_case ON calls(case_id) WHERE case_id IS NOT NULL;"
	"CREATE INDEX bookings_case ON bookings(case_id);",
	/* 6: replies are queued in the conversation's transaction */
	"DROP INDEX messages_live;"
	"CREATE INDEX messages_live ON messages(status) "
	"  WHERE status = 'sending' OR status = 'retry' OR status = 'queued';",
};

#define NMIGRATIONS	((int)(sizeof(migrations) / sizeof(migrations[0])))

int
mcr_store_version(void)
{
	return NMIGRATIONS;
}

int
store_failed(struct mcr_store *s, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);

	s->err = rc;
	s->busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
	if (s->busy) {
		mcr_warn("%s: store busy: %s", s->path, what);
		errno = EBUSY;
	} else {
		mcr_warn("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
		errno = EIO;
	}
	return -1;
}

int
store_exec(struct mcr_store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_failed(s, sql);
	return 0;
}

sqlite3_stmt *
store_prep(struct mcr_store *s, sqlite3_stmt **cache, const char *sql)
{
	if (*cache != NULL) {
		sqlite3_reset(*cache);
		sqlite3_clear_bindings(*cache);
		return *cache;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    cache, NULL) != SQLITE_OK) {
		store_failed(s, "prepare");
		return NULL;
	}
	return *cache;
}

sqlite3_stmt *
store_prep_all(struct mcr_store *s, sqlite3_stmt **cache, const char *sql)
{
	if (*cache != NULL) {
		sqlite3_reset(*cache);
		return *cache;
	}
	return store_prep(s, cache, sql);
}

static int
migrate(struct mcr_store *s)
{
	sqlite3_stmt *st;
	int v;

	if (store_exec(s, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK) {
		store_failed(s, "read schema version");
		store_exec(s, "ROLLBACK");
		return -1;
	}
	v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (v > NMIGRATIONS) {
		mcr_warn("%s: store schema %d is newer than this program (%d)",
		    s->path, v, NMIGRATIONS);
		store_exec(s, "ROLLBACK");
		errno = EINVAL;
		return -1;
	}
	for (; v < NMIGRATIONS; v++) {
		char pragma[64];

		if (store_exec(s, migrations[v]) == -1) {
			store_exec(s, "ROLLBACK");
			return -1;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    v + 1);
		if (store_exec(s, pragma) == -1) {
			store_exec(s, "ROLLBACK");
			return -1;
		}
	}
	return store_exec(s, "COMMIT");
}

/*
 * WAL mode.  Switching takes the file to itself and does not wait on the
 * busy handler: two programs opening a new store at once (mcr-ingest |
 * mcr-send) would see a busy error, so it is retried for busy_ms.
 */
static int
wal(struct mcr_store *s, int busy_ms)
{
	int64_t t0 = mcr_clock_ms();
	int rc;

	for (;;) {
		rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL,
		    NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		if (mcr_clock_ms() - t0 > busy_ms)
			break;
		sqlite3_sleep(10);
	}
	return store_failed(s, "PRAGMA journal_mode = WAL");
}

struct mcr_store *
mcr_store_open(const char *path, int busy_ms, int readonly)
{
	struct mcr_store *s = mcr_xcalloc(1, sizeof(*s));
	/* one connection is only ever used by one thread: no mutexes */
	int flags = (readonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;

	s->path = mcr_xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		mcr_warn("%s: cannot open store: %s", path, s->db ?
		    sqlite3_errmsg(s->db) : "out of memory");
		errno = EIO;
		mcr_store_close(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, busy_ms);
	sqlite3_extended_result_codes(s->db, 1);
	if (!readonly && (wal(s, busy_ms) == -1 ||
	    store_exec(s, "PRAGMA synchronous = NORMAL") == -1 ||
	    store_exec(s, "PRAGMA cache_size = -6144") == -1 ||
	    store_exec(s, "PRAGMA foreign_keys = ON") == -1 ||
	    migrate(s) == -1)) {
		int e = errno;

		mcr_store_close(s);
		errno = e;
		return NULL;
	}
	return s;
}

void
mcr_store_close(struct mcr_store *s)
{
	sqlite3_stmt *st;

	if (s == NULL)
		return;
	if (s->bulk)
		mcr_store_bulk(s, 0);
	if (s->dry && s->db != NULL)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	if (s->db != NULL) {
		while ((st = sqlite3_next_stmt(s->db, NULL)) != NULL)
			sqlite3_finalize(st);
		sqlite3_close(s->db);
	}
	free(s->path);
	free(s);
}

/* The transaction the depth counts was rolled back by SQLite itself. */
static int
lost(struct mcr_store *s)
{
	if (s->depth > 0 && sqlite3_get_autocommit(s->db)) {
		s->depth = 0;
		mcr_warn("%s: the transaction was rolled back: %s", s->path,
		    sqlite3_errmsg(s->db));
		errno = EIO;
		return 1;
	}
	return 0;
}

int
mcr_store_begin(struct mcr_store *s)
{
	/*
	 * A transaction inside another is a savepoint of it, and so are a
	 * dry run's, which nest in one that is never committed.
	 */
	if (lost(s))
		return -1;
	if (store_exec(s, s->depth > 0 || s->dry ? "SAVEPOINT mcr" :
	    "BEGIN IMMEDIATE") == -1)
		return -1;
	s->depth++;
	return 0;
}

int
mcr_store_commit(struct mcr_store *s)
{
	if (s->depth <= 0) {
		/* a dry run's outer transaction is never committed */
		if (s->dry)
			return -1;
		return store_exec(s, "COMMIT");
	}
	if (lost(s))
		return -1;
	s->depth--;
	if (s->depth > 0 || s->dry)
		return store_exec(s, "RELEASE mcr");
	if (store_exec(s, "COMMIT") == -1) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* Undo everything since the outermost begin. */
void
mcr_store_rollback(struct mcr_store *s)
{
	if (s->dry) {
		for (; s->depth > 0; s->depth--)
			sqlite3_exec(s->db, "ROLLBACK TO mcr; RELEASE mcr",
			    NULL, NULL, NULL);
		return;
	}
	s->depth = 0;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A dry run: one outer transaction, rolled back at close. */
static struct mcr_store *
dry(struct mcr_store *s)
{
	if (s == NULL)
		return NULL;
	if (store_exec(s, "BEGIN") == -1) {
		mcr_store_close(s);
		return NULL;
	}
	s->dry = 1;
	return s;
}

int
mcr_store_busy(struct mcr_store *s)
{
	return s->busy;
}

int
mcr_store_filepos_get(struct mcr_store *s, const char *path,
    struct mcr_filepos *p)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_prep(s, &s->st_fget, "SELECT dev, ino, offset, line,"
	    " head, headlen FROM files WHERE path = ?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return store_failed(s, "read file position");
	p->dev = sqlite3_column_int64(st, 0);
	p->ino = sqlite3_column_int64(st, 1);
	p->offset = sqlite3_column_int64(st, 2);
	p->line = sqlite3_column_int64(st, 3);
	p->head = (uint64_t)sqlite3_column_int64(st, 4);
	p->headlen = sqlite3_column_int(st, 5);
	return 0;
}

int
mcr_store_filepos_set(struct mcr_store *s, const char *path,
    const struct mcr_filepos *p)
{
	sqlite3_stmt *st;

	if ((st = store_prep(s, &s->st_fset, "INSERT INTO files (path, dev, "
	    "ino, offset, line, head, headlen, updated_at) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
	    "dev = excluded.dev, ino = excluded.ino, offset = excluded.offset,"
	    " line = excluded.line, head = excluded.head, headlen = "
	    "excluded.headlen, updated_at = excluded.updated_at")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, p->dev);
	sqlite3_bind_int64(st, 3, p->ino);
	sqlite3_bind_int64(st, 4, p->offset);
	sqlite3_bind_int64(st, 5, p->line);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)p->head);
	sqlite3_bind_int(st, 7, p->headlen);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)mcr_now());
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(s, "save file position");
	return 0;
}

int
mcr_store_optedout(struct mcr_store *s, const char *e164)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_prep(s, &s->st_optq, "SELECT 1 FROM optouts WHERE "
	    "number = ?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, e164, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_failed(s, "read opt-outs");
}

int
mcr_store_optout_add(struct mcr_store *s, const char *e164,
    const char *source, time_t at)
{
	sqlite3_stmt *st;

	if ((st = store_prep(s, &s->st_opta, "INSERT INTO optouts (number, "
	    "at, source) VALUES (?, ?, ?) ON CONFLICT(number) DO NOTHING")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(st, 1, e164, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
	sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(s, "add opt-out");
	return 0;
}

int
mcr_store_optout_remove(struct mcr_store *s, const char *e164)
{
	sqlite3_stmt *st;

	if ((st = store_prep(s, &s->st_optr, "DELETE FROM optouts WHERE "
	    "number = ?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, e164, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(s, "remove opt-out");
	return sqlite3_changes(s->db) > 0;
}

int
mcr_store_optout_each(struct mcr_store *s, int (*fn)(void *, const char *,
    time_t, const char *), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT number, at, source FROM optouts "
	    "ORDER BY at, number", -1, &st, NULL) != SQLITE_OK)
		return store_failed(s, "read opt-outs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(arg, (const char *)sqlite3_column_text(st, 0),
		    (time_t)sqlite3_column_int64(st, 1),
		    (const char *)sqlite3_column_text(st, 2)) == -1)
			break;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_failed(s, "read opt-outs");
	return 0;
}

int
mcr_store_patient_put(struct mcr_store *s, const char *e164,
    const char *first_name, const char *recall, time_t at)
{
	sqlite3_stmt *st;

	if ((st = store_prep(s, &s->st_pat, "INSERT INTO patients (number, "
	    "first_name, recall, updated_at) VALUES (?1, ?2, ?3, ?4) ON "
	    "CONFLICT(number) DO UPDATE SET first_name = ?2, recall = ?3, "
	    "updated_at = ?4")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, e164, -1, SQLITE_STATIC);
	if (first_name != NULL && *first_name)
		sqlite3_bind_text(st, 2, first_name, -1, SQLITE_STATIC);
	if (recall != NULL && *recall)
		sqlite3_bind_text(st, 3, recall, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)at);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_failed(s, "store patient");
	return 0;
}

/*
 * For a dry run: the store as it is when its schema is current (the caller
 * rolls its work back), an empty one in memory when there is none, and an
 * in-memory copy brought to the current schema when it is older, so that
 * not even a migration is left behind.
 */
struct mcr_store *
mcr_store_open_dry(const char *path, int busy_ms)
{
	struct mcr_store *s, *m;
	sqlite3_backup *b;
	sqlite3_stmt *st;
	int v = 0, rc;

	if (access(path, F_OK) == -1)
		return dry(mcr_store_open(":memory:", busy_ms, 0));
	if ((s = mcr_store_open(path, busy_ms, 1)) == NULL)
		return NULL;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (v >= NMIGRATIONS) {
		mcr_store_close(s);
		return dry(mcr_store_open(path, busy_ms, 0));
	}
	m = mcr_xcalloc(1, sizeof(*m));
	m->path = mcr_xstrdup(path);
	if (sqlite3_open(":memory:", &m->db) != SQLITE_OK ||
	    (b = sqlite3_backup_init(m->db, "main", s->db, "main")) == NULL) {
		mcr_warn("%s: cannot copy the store for a dry run", path);
		mcr_store_close(m);
		mcr_store_close(s);
		return NULL;
	}
	while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK ||
	    rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		sqlite3_sleep(10);
	sqlite3_backup_finish(b);
	mcr_store_close(s);
	if (rc != SQLITE_DONE || migrate(m) == -1) {
		mcr_warn("%s: cannot copy the store for a dry run", path);
		mcr_store_close(m);
		return NULL;
	}
	return dry(m);
}

/*
 * A long batch of writes (a backfill) leaves the WAL alone until it ends:
 * copying it into the store as it grows costs the batch more than one
 * sequential copy at the end.  Meanwhile the WAL grows to about the size
 * of what the batch adds.
 */
int
mcr_store_bulk(struct mcr_store *s, int on)
{
	if (on == s->bulk)
		return 0;
	s->bulk = on;
	if (on)
		return store_exec(s, "PRAGMA wal_autocheckpoint = 0");
	if (store_exec(s, "PRAGMA wal_autocheckpoint = 1000") == -1)
		return -1;
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
	    NULL);
	return 0;
}

int
mcr_store_slot_put(struct mcr_store *s, time_t start, time_t end,
    const char *clinician, const char *type)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO slots (start, end, "
	    "clinician, type) VALUES (?, ?, ?, ?) ON CONFLICT (start, "
	    "clinician) DO UPDATE SET end = excluded.end, type = excluded.type",
	    -1, &st, NULL) != SQLITE_OK)
		return store_failed(s, "store slot");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)start);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)end);
	sqlite3_bind_text(st, 3, clinician ? clinician : "", -1,
	    SQLITE_STATIC);
	if (type != NULL && *type != '\0')
		sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : store_failed(s, "store slot");
}

int
mcr_store_bookings_each(struct mcr_store *s, int (*fn)(void *,
    const struct mcr_booking *), void *arg)
{
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT b.id, b.case_id, b.number, "
	    "b.at, s.start, s.end, s.clinician, s.type FROM bookings b JOIN "
	    "slots s ON s.id = b.slot_id WHERE b.status = 'booked' ORDER BY "
	    "s.start, b.id", -1, &st, NULL) != SQLITE_OK)
		return store_failed(s, "read bookings");
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct mcr_booking b;
		const unsigned char *v;

		memset(&b, 0, sizeof(b));
		b.id = sqlite3_column_int64(st, 0);
		b.case_id = sqlite3_column_int64(st, 1);
		v = sqlite3_column_text(st, 2);
		mcr_strlcpy(b.number, v ? (const char *)v : "",
		    sizeof(b.number));
		b.at = (time_t)sqlite3_column_int64(st, 3);
		b.start = (time_t)sqlite3_column_int64(st, 4);
		b.end = (time_t)sqlite3_column_int64(st, 5);
		v = sqlite3_column_text(st, 6);
		mcr_strlcpy(b.clinician, v ? (const char *)v : "",
		    sizeof(b.clinician));
		v = sqlite3_column_text(st, 7);
		mcr_strlcpy(b.type, v ? (const char *)v : "", sizeof(b.type));
		r = fn(arg, &b);
	}
	sqlite3_finalize(st);
	return r;
}

int
mcr_store_callbacks(struct mcr_store *s, time_t since,
    int (*fn)(void *, const struct mcr_callback *), void *arg)
{
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT c.id, c.caller, c.state, "
	    "c.reason, c.opened_at, (SELECT group_concat(strftime("
	    "'%Y-%m-%dT%H:%M:%SZ', started_at, 'unixepoch'), ' ') FROM (SELECT "
	    "started_at FROM calls WHERE case_id = c.id ORDER BY started_at)), "
	    "(SELECT group_concat(step || ':' || kind || ':' || status, ' ') "
	    "FROM (SELECT step, kind, status FROM messages WHERE case_id = c.id "
	    "ORDER BY id)) FROM cases c WHERE c.opened_at >= ? AND c.caller IS "
	    "NOT NULL AND (c.state = 'expired' OR c.state = 'failed' OR "
	    "c.state = 'uncertain' OR (c.state = 'skipped' AND c.reason = "
	    "'landline')) ORDER BY c.opened_at, c.id", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_failed(s, "read the call-back list");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct mcr_callback cb;

		memset(&cb, 0, sizeof(cb));
		cb.case_id = sqlite3_column_int64(st, 0);
		cb.number = (const char *)sqlite3_column_text(st, 1);
		cb.state = (const char *)sqlite3_column_text(st, 2);
		cb.reason = (const char *)sqlite3_column_text(st, 3);
		cb.since = (time_t)sqlite3_column_int64(st, 4);
		cb.calls = (const char *)sqlite3_column_text(st, 5);
		cb.tried = (const char *)sqlite3_column_text(st, 6);
		r = fn(arg, &cb);
	}
	sqlite3_finalize(st);
	return r;
}

int
mcr_store_purge(struct mcr_store *s, time_t before, long *n)
{
	/*
	 * What identifies a person goes; what the report counts stays: the
	 * calls' times, outcomes and line types, the cases' states, the
	 * messages' kinds and statuses.  Opt-outs are kept for ever.
	 */
	static const char *const sql[] = {
		"UPDATE calls SET caller = NULL, caller_name = NULL, detail = "
		    "NULL, alias = NULL WHERE started_at < ?1 AND (caller IS NOT "
		    "NULL OR caller_name IS NOT NULL OR detail IS NOT NULL)",
		"UPDATE cases SET caller = NULL, user_id = NULL WHERE "
		    "last_call_at < ?1 AND updated_at < ?1 AND (caller IS NOT "
		    "NULL OR user_id IS NOT NULL)",
		"UPDATE messages SET to_number = '', body = NULL, provider_id = "
		    "NULL WHERE created_at < ?1 AND to_number != ''",
		"UPDATE transcript SET body = NULL WHERE at < ?1 AND body IS "
		    "NOT NULL",
		"UPDATE escalations SET transcript = '' WHERE at < ?1 AND "
		    "transcript != ''",
		"UPDATE bookings SET number = NULL WHERE at < ?1 AND number IS "
		    "NOT NULL",
		"DELETE FROM inbox WHERE at < ?1",
		"DELETE FROM seen WHERE at < ?1",
	};
	sqlite3_stmt *st;

	*n = 0;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) !=
		    SQLITE_OK)
			return store_failed(s, "purge");
		sqlite3_bind_int64(st, 1, (sqlite3_int64)before);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return store_failed(s, "purge");
		}
		*n += sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	return 0;
}

int
mcr_store_backup(struct mcr_store *s, const char *path)
{
	sqlite3 *to;
	sqlite3_backup *b;
	int rc;

	if (sqlite3_open_v2(path, &to, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		mcr_warn("%s: %s", path, to ? sqlite3_errmsg(to) :
		    "out of memory");
		sqlite3_close(to);
		return -1;
	}
	if ((b = sqlite3_backup_init(to, "main", s->db, "main")) == NULL) {
		mcr_warn("%s: %s", path, sqlite3_errmsg(to));
		sqlite3_close(to);
		return -1;
	}
	/* a page at a time: writers are kept waiting only briefly */
	while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK ||
	    rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		if (rc != SQLITE_OK)
			sqlite3_sleep(20);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		mcr_warn("%s: backup: %s", path, sqlite3_errmsg(to));
		sqlite3_close(to);
		return -1;
	}
	rc = sqlite3_exec(to, "PRAGMA integrity_check", NULL, NULL, NULL);
	sqlite3_close(to);
	return rc == SQLITE_OK ? 0 : -1;
}

struct mcr_store *
mcr_store_open_run(const char *path, int busy_ms, int dry)
{
	return dry ? mcr_store_open_dry(path, busy_ms) :
	    mcr_store_open(path, busy_ms, 0);
}
