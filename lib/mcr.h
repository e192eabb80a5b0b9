/*
 * libmcr: the shared library of the mcr programs.
 *
 * Only this library touches SQL, HTTP, phone numbers and time zones.
 * Functions report one line on stderr (prefixed with the program name) and
 * return -1 or NULL; the program decides the exit status.  Nothing here
 * calls exit() except the allocation wrappers on out-of-memory.
 */
#ifndef MCR_H
#define MCR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Exit statuses shared by every program (see mcr(7)). */
#define MCR_EXIT_OK	0
#define MCR_EXIT_PART	1	/* some record failed, the rest done */
#define MCR_EXIT_USAGE	2	/* usage or configuration error */
#define MCR_EXIT_TEMP	75	/* try again later: store busy */

/* util.c */

/* The program name used in messages; set once from main(). */
void	 mcr_util_setprog(const char *argv0);
const char *mcr_util_prog(void);
/*
 * The end of a program: the caches dropped and stdout flushed; a write
 * error on it turns an exit status of 0 into 1.  Returns the status.
 */
int	 mcr_util_done(int status);
/* Print "prog: fmt" on stderr; never exits. */
void	 mcr_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Allocation wrappers: exit(1) with a message on out-of-memory. */
void	*mcr_xmalloc(size_t);
void	*mcr_xcalloc(size_t, size_t);
void	*mcr_xrealloc(void *, size_t);
char	*mcr_xstrdup(const char *);
/*
 * Parse a decimal integer in [min, max]; returns 0, or -1 with *errstr
 * set to "invalid", "too small" or "too large" (strtonum(3) style).
 */
int	 mcr_util_num(const char *, long long, long long, long long *,
	    const char **);
/* 64-bit hash of n bytes, stable across runs and machines. */
uint64_t mcr_util_hash(const void *, size_t, uint64_t seed);
/*
 * A header name reduced to lower-case letters and digits, so that "Parent
 * Call Sid", "parent_call_sid" and "ParentCallSid" compare equal.
 */
void	 mcr_util_squash(const char *, char *out, size_t);
/* Copy at most size-1 bytes and terminate; returns strlen(src). */
size_t	 mcr_strlcpy(char *, const char *, size_t);
/* Return 1 if s is valid UTF-8. */
int	 mcr_utf8_valid(const char *, size_t);
/*
 * Return s as valid UTF-8 in buf: unchanged when already valid, else read as
 * Windows-1252 (a superset of Latin-1, what PBX admin consoles write).
 * Returns buf.
 */
char	*mcr_utf8_from_cp1252(const char *, char *buf, size_t);

/* A growable string; zero-initialise before use. */
struct mcr_buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};
void	 mcr_buf_add(struct mcr_buf *, const char *, size_t);
void	 mcr_buf_puts(struct mcr_buf *, const char *);
void	 mcr_buf_printf(struct mcr_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 mcr_buf_reset(struct mcr_buf *);
void	 mcr_buf_free(struct mcr_buf *);

/* clock.c */

/*
 * Now, in UTC seconds.  Every clock read goes through here: MCR_NOW
 * (RFC 3339, "YYYY-MM-DD HH:MM:SS" UTC, or epoch seconds) overrides it.
 */
time_t	 mcr_now(void);
/* Now in milliseconds from the real clock (progress, follow mode). */
int64_t	 mcr_clock_ms(void);
/* Format t as RFC 3339 UTC ("2026-01-05T09:03:11Z") into buf[21]. */
char	*mcr_time_fmt(time_t, char buf[21]);
/*
 * Parse an RFC 3339 / ISO 8601 time with offset or Z, an RFC 2822 date
 * ("Tue, 10 Aug 2010 08:02:17 +0000"), or epoch seconds.  Returns 0, or -1
 * when s is none of these or has no zone (then use mcr_tz_local).
 */
int	 mcr_time_parse_utc(const char *, time_t *);
/*
 * Parse a zoneless local time "YYYY-MM-DD HH:MM[:SS]" (also with '/' or 'T'
 * separators) into a naive count of seconds as if it were UTC.
 * Returns 0 or -1.
 */
int	 mcr_time_parse_naive(const char *, int64_t *);
/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t	 mcr_days_from_civil(int y, int m, int d);

/*
 * A time zone by IANA name.  mcr_tz_open returns NULL (with a message) for a
 * zone that does not exist.
 */
struct mcr_tz;
struct mcr_tz *mcr_tz_open(const char *);
void	 mcr_tz_close(struct mcr_tz *);
/* UTC offset in seconds at UTC time t. */
long	 mcr_tz_offset(struct mcr_tz *, time_t);
/*
 * Local naive seconds to UTC.  A time in the repeated autumn hour has two
 * readings: the one nearest hint (a UTC time from elsewhere in the record,
 * or -1) wins, else the first (summer-time) reading; *flags gets
 * MCR_TZ_REPEATED.  A time in the skipped spring hour is read with the
 * offset before the change and gets MCR_TZ_SKIPPED.
 */
#define MCR_TZ_REPEATED	1
#define MCR_TZ_SKIPPED	2
time_t	 mcr_tz_local(struct mcr_tz *, int64_t naive, time_t hint, int *flags);
/* Broken-down local time of t in the zone. */
void	 mcr_tz_tm(struct mcr_tz *, time_t, struct tm *);

/* config.c */

enum mcr_clinic { MCR_DENTAL, MCR_GP, MCR_SPECIALIST, MCR_PHYSIO };

/* Opening hours: up to four ranges a day, minutes from local midnight. */
struct mcr_hours {
	int	 nrange[7];		/* 0 = Sunday, as struct tm */
	short	 from[7][4];
	short	 to[7][4];
	int	 nholiday;
	int64_t	*holiday;		/* local days since the epoch */
};

/* A list of strings from a comma-separated value. */
struct mcr_list {
	int	  n;
	char	**v;
};

struct mcr_csvmap;

/*
 * Message kinds, each a template in the config ([template.KIND]) with a
 * local text for the outbox and SMS.
 */
enum mcr_kind {
	MCR_K_RECOVERY,		/* missed in hours */
	MCR_K_AFTER_HOURS,	/* missed while closed: when it opens, 111/999 */
	MCR_K_PATIENT,		/* a returning patient, by first name */
	MCR_K_SMS,		/* the recovery message over SMS */
	MCR_K_FOLLOWUP,
	MCR_K_OFFER, MCR_K_BOOKING, MCR_K_ESCALATION, MCR_K_URGENT,
	MCR_K_OPTOUT, MCR_K_OPTIN, MCR_K_HELP, MCR_K_DECLINED, MCR_K_CLARIFY,
	MCR_K_FOLLOWUP_CLOSED,	/* a follow-up sent while closed: when it opens */
	MCR_K_TAKEN,		/* an offer again: the time picked just went */
	MCR_K_N
};

struct mcr_template {
	char	*name;			/* WhatsApp template name (meta) */
	char	*language;		/* NULL: [whatsapp] language */
	char	*content_sid;		/* Twilio Content template (HX...) */
	struct mcr_list params;		/* variables, in parameter order */
	int	 params_set;		/* params given in the file */
	char	*text;			/* local text; NULL: the built-in one */
	int	 line;			/* of its section, 0: not in the file */
};

struct mcr_config {
	char	*file;			/* NULL: built-in defaults only */
	/* [practice] */
	char	*name;
	enum mcr_clinic type;
	char	*timezone;
	char	 region[3];
	double	 appointment_value;
	char	*currency;
	/* [hours] */
	struct mcr_hours hours;
	/* [numbers] */
	struct mcr_list own;
	struct mcr_list staff;
	char	*blocklist;
	int	 ext_digits;		/* longest internal extension */
	/* [store] */
	char	*store_path;
	int	 busy_timeout_ms;
	/* [ingest] */
	char	*format;		/* NULL: detect */
	char	*source_tz;		/* NULL: the practice zone */
	struct mcr_list inbound_contexts;
	struct mcr_list trunks;		/* channel name prefixes */
	struct mcr_list ddis;
	int	 short_abandon;
	int	 ring_threshold;
	int	 voicemail_missed;
	int	 short_abandon_missed;
	int	 cooldown;		/* seconds */
	int	 queue_wait;		/* seconds an unfinished queue call waits */
	int	 settle_ms;		/* follow mode: quiet time before deciding */
	char	*map;			/* csv column map file */
	struct mcr_csvmap *csv;		/* [csv] */
	/* [send] */
	int	 send_delay;		/* seconds after the last missed call */
	int	 max_age;		/* seconds: older cases are stale */
	int	 holdout;		/* per cent of cases not messaged */
	int	 retries;		/* attempts in one run, transient errors */
	int	 max_attempts;		/* over all runs */
	int	 backoff_ms;		/* the first pause before a retry */
	int	 burst_calls;		/* calls from one number ... */
	int	 burst_window;		/* ... within seconds: robocall */
	int	 burst_neighbours;	/* callers of one number block: robocall */
	int	 connect_timeout;	/* seconds */
	int	 timeout;		/* seconds, a whole request */
	int	 recipient_interval;	/* seconds between two to one number */
	/* [whatsapp] */
	char	*whatsapp_provider;	/* outbox, meta, twilio */
	char	*whatsapp_api_base;
	char	*phone_number_id;	/* meta */
	char	*whatsapp_token_file;	/* meta: else $MCR_META_TOKEN */
	char	*language;
	char	*whatsapp_from;		/* twilio: the WhatsApp sender */
	int	 whatsapp_rate;		/* messages a second */
	/* [twilio] */
	char	*twilio_account;
	char	*twilio_token_file;	/* else $MCR_TWILIO_TOKEN */
	char	*twilio_api_base;
	char	*twilio_service;	/* MessagingServiceSid, instead of from */
	char	*twilio_status_callback;
	/* [sms] */
	char	*sms_provider;		/* none, outbox, twilio */
	char	*sms_from;
	int	 sms_rate;
	/* [outbox] */
	char	*outbox_path;
	/* [reply] */
	char	*listen;		/* addr:port */
	char	*public_url;		/* scheme://host[:port] Twilio calls */
	char	*app_secret_file;	/* else $MCR_META_APP_SECRET */
	char	*verify_token_file;	/* else $MCR_META_VERIFY_TOKEN */
	int	 max_body;		/* bytes */
	char	*booking_hook;		/* a command: the booking on stdin */
	/* [slots] */
	int	 slot_length;		/* minutes */
	int	 slot_days;		/* generated this many days ahead */
	int	 slot_lead;		/* minutes: none sooner is offered */
	int	 slot_hold;		/* minutes an offered slot is held */
	int	 slot_offer;		/* offered at once, 1 to 10 */
	/* [escalation] */
	char	*esc_email;		/* staff address */
	char	*esc_smtp;		/* smtp://host:port */
	char	*esc_from;
	char	*esc_user;		/* password: $MCR_SMTP_PASSWORD */
	char	*esc_hook;		/* a command: the escalation on stdin */
	/* [report] */
	int	 short_cover;		/* per cent missed: cover is short */
	double	 callback_baseline;	/* per cent who call back unaided */
	/* [followup] */
	int	 nsteps;
	struct mcr_step {
		int	 delay;		/* seconds after the first message */
		int	 what;		/* MCR_STEP_* */
	}	 steps[8];
	int	 quiet_from, quiet_to;	/* minutes, local; from == to: none */
	/* [template.KIND] */
	struct mcr_template tpl[MCR_K_N];
};

#define MCR_STEP_WHATSAPP	0	/* the follow-up template */
#define MCR_STEP_SMS		1	/* one SMS, to a mobile, if configured */
#define MCR_STEP_EXPIRE		2	/* onto the staff call-back list */

/*
 * Load the configuration: built-in defaults, then file (NULL: take
 * $MCR_CONFIG, else /etc/mcr/mcr.conf when it exists), then the environment.
 * Errors are printed as "file:line: what"; returns NULL on any error.
 */
struct mcr_config *mcr_config_load(const char *file);
void	 mcr_config_free(struct mcr_config *);
/* Name of a clinic type. */
const char *mcr_config_clinic(enum mcr_clinic);
/*
 * A secret: the environment variable env when set, else the first line of
 * file, which must belong to the user and be readable by no one else.
 * Returns a copy, or NULL with a message naming what to set.
 */
char	*mcr_config_secret(const char *env, const char *file,
	    const char *what);

/* template.c: message kinds and their texts */

/* "recovery", "after_hours", ...; mcr_kind_byname returns -1 if unknown. */
const char *mcr_kind_name(enum mcr_kind);
int	 mcr_kind_byname(const char *);

/* The values a text or template parameter can name, as {practice}. */
struct mcr_vars {
	const char *practice;
	const char *name;		/* first name, else "there" */
	const char *first_name;
	const char *recall;		/* else "next appointment" */
	const char *opens;		/* "tomorrow at 8:30" */
	const char *closes;		/* "6pm" */
	const char *time;		/* of the call, "10:42" */
	const char *emergency;		/* 111 and 999 guidance */
	const char *slots;
};
/* The value of variable name, or NULL when there is no such variable. */
const char *mcr_vars_get(const struct mcr_vars *, const char *name);
/* The text of kind: the config's, else the built-in one for the clinic. */
const char *mcr_tpl_text(const struct mcr_config *, enum mcr_kind);
/* The parameters of kind: the config's, else the built-in list. */
const struct mcr_list *mcr_tpl_params(const struct mcr_config *,
	    enum mcr_kind);
/* Emergency guidance for the clinic type. */
const char *mcr_tpl_emergency(enum mcr_clinic);
/*
 * Render text with {variables} into b (appended).  Returns 0, or -1 with
 * the unknown variable's name in bad.
 */
int	 mcr_tpl_render(const char *text, const struct mcr_vars *,
	    struct mcr_buf *, char *bad, size_t);

/* hours.c */

/*
 * Parse "08:30-13:00, 14:00-18:00" or "closed" into day d of h.
 * Returns 0 or -1 with *why set.
 */
int	 mcr_hours_parse_day(struct mcr_hours *, int d, const char *,
	    const char **why);
/* Parse "2026-12-25, 2026-12-26" into the holiday list; 0 or -1. */
int	 mcr_hours_parse_holidays(struct mcr_hours *, const char *,
	    const char **why);
/* 1 if the practice is open at UTC time t. */
int	 mcr_hours_open(const struct mcr_hours *, struct mcr_tz *, time_t);
/*
 * The next UTC time at or after t when the practice opens, or -1 when it
 * never opens within 366 days.
 */
time_t	 mcr_hours_next_open(const struct mcr_hours *, struct mcr_tz *, time_t);

/* "8:30am", "6pm": minutes from midnight as a patient reads a time. */
void	 mcr_hours_clock(int min, char *buf, size_t);
/*
 * When the practice opens next after t, in words: "today at 8:30am",
 * "tomorrow at ...", "on Monday at ...", "on 2 January at ...", or "soon"
 * when it never does within a year.
 */
void	 mcr_hours_opens(const struct mcr_hours *, struct mcr_tz *, time_t,
	    char *buf, size_t);

/* phone.c, phonenumber.cc */

enum mcr_ltype {
	MCR_LT_MOBILE, MCR_LT_FIXED, MCR_LT_VOIP, MCR_LT_OTHER,
	MCR_LT_WITHHELD, MCR_LT_INVALID, MCR_LT_INTERNAL
};

struct mcr_number {
	char	 e164[20];		/* "" when withheld, invalid, internal */
	char	 country[3];		/* region code, "" when unknown */
	char	 ext[12];		/* an internal extension's digits */
	enum mcr_ltype type;
	int	 foreign;		/* country code differs from the region's */
};

/*
 * Normalise a caller ID as a phone system writes it.  Withheld markers
 * ("anonymous", "Restricted", empty, ...) give MCR_LT_WITHHELD; digit
 * strings of at most ext_digits digits are internal extensions; the rest go
 * through libphonenumber with region as the default.  Results are cached,
 * so a number is parsed once however many rows carry it.
 */
void	 mcr_phone_norm(const char *raw, const char *region, int ext_digits,
	    struct mcr_number *);
/* The name of a line type for records ("mobile", "withheld", ...). */
const char *mcr_phone_typename(enum mcr_ltype);
/* Mask a number for logs: "+44 7*** ***123".  Returns buf. */
char	*mcr_phone_mask(const char *e164, char *buf, size_t);
/* Number of libphonenumber parses so far (for -v and benchmarks). */
long	 mcr_phone_parses(void);
/* Drop the cache (frees memory). */
void	 mcr_phone_reset(void);

/*
 * The practice's own lists: why a number is never messaged ("staff",
 * "own", "blocklisted") or NULL.  The lists are normalised once and the
 * blocklist file read once (a missing file is reported, not fatal).
 */
struct mcr_nlists;
struct mcr_nlists *mcr_nlists_new(const struct mcr_config *);
const char *mcr_nlists_check(const struct mcr_nlists *, const char *e164);
void	 mcr_nlists_free(struct mcr_nlists *);

/* The C++ side: parse with libphonenumber; 0 or -1 when unparsable. */
int	 mcr_pn_parse(const char *raw, const char *region, char *e164,
	    size_t, char country[3], int *type, int *valid, int *foreign);

/* store.c */

struct mcr_store;

/*
 * Open (creating when absent) and migrate the store at path.  Returns NULL
 * on error; errno is EBUSY when the store stayed locked past the busy
 * timeout (exit 75).  readonly: do not create or migrate.
 */
struct mcr_store *mcr_store_open(const char *path, int busy_ms, int readonly);
void	 mcr_store_close(struct mcr_store *);
/*
 * Open for a dry run, which rolls back all it does: the store itself when
 * its schema is current, an empty store in memory when there is none, and
 * an in-memory copy brought up to date when its schema is older.
 */
struct mcr_store *mcr_store_open_dry(const char *path, int busy_ms);
/* The store of a run: mcr_store_open_dry with dry, else mcr_store_open. */
struct mcr_store *mcr_store_open_run(const char *path, int busy_ms, int dry);
/*
 * Begin, commit, roll back; -1 on error, errno EBUSY when busy.  A begin
 * inside an open transaction is a savepoint of it; a rollback undoes all
 * since the outermost begin.
 */
int	 mcr_store_begin(struct mcr_store *);
int	 mcr_store_commit(struct mcr_store *);
void	 mcr_store_rollback(struct mcr_store *);
/*
 * on 1: a long batch of writes follows; the WAL is copied into the store
 * once, when called with 0 (or at close), not as it grows.  Returns 0 or
 * -1.
 */
int	 mcr_store_bulk(struct mcr_store *, int on);
/* 1 when the last failure was the store being busy. */
int	 mcr_store_busy(struct mcr_store *);
/* Schema version the library writes. */
int	 mcr_store_version(void);

/* What is remembered of a file between runs. */
struct mcr_filepos {
	int64_t	 dev, ino;
	int64_t	 offset;		/* bytes consumed */
	int64_t	 line;			/* lines consumed */
	uint64_t head;			/* hash of the first bytes */
	int	 headlen;
};
/* 0 found, 1 not known, -1 error. */
int	 mcr_store_filepos_get(struct mcr_store *, const char *path,
	    struct mcr_filepos *);
int	 mcr_store_filepos_set(struct mcr_store *, const char *path,
	    const struct mcr_filepos *);

/* 1 when number (E.164) is on the opt-out list, 0 not, -1 error. */
int	 mcr_store_optedout(struct mcr_store *, const char *e164);
int	 mcr_store_optout_add(struct mcr_store *, const char *e164,
	    const char *source, time_t);
/* 1 removed, 0 was not on the list, -1 error. */
int	 mcr_store_optout_remove(struct mcr_store *, const char *e164);
/* Call fn for each opt-out, oldest first; fn returns -1 to stop. */
int	 mcr_store_optout_each(struct mcr_store *, int (*fn)(void *,
	    const char *number, time_t at, const char *source), void *);
/* Add or update a patient: first name and recall reason may be NULL. */
int	 mcr_store_patient_put(struct mcr_store *, const char *e164,
	    const char *first_name, const char *recall, time_t);

/* provider.c: the messaging providers */

enum mcr_chan { MCR_CH_WHATSAPP, MCR_CH_SMS };

/* What became of a request, as the reference classifies the errors. */
enum mcr_pres {
	MCR_P_SENT,		/* accepted: provider_id set when it said */
	MCR_P_RETRY,		/* throughput, temporary, 5xx: not sent */
	MCR_P_UNREACHABLE,	/* no connection made: not sent */
	MCR_P_FALLBACK,		/* not a WhatsApp user: try SMS */
	MCR_P_FAIL,		/* this recipient or payload: no retry */
	MCR_P_OPTOUT,		/* the recipient unsubscribed */
	MCR_P_STOP,		/* token, account, policy, template: stop */
	MCR_P_UNCERTAIN		/* it may or may not have left */
};

/* One message to send. */
struct mcr_req {
	int64_t	 id;			/* ours, carried back by receipts */
	int64_t	 case_id;
	const char *to;			/* E.164 */
	enum mcr_kind kind;
	const char *text;		/* the rendered local text */
	const char *params[8];		/* rendered template parameters */
	int	 nparams;
	/*
	 * Inside the 24-hour window the patient's message opened: free-form
	 * text, with up to 3 reply buttons or up to 10 list rows (meta);
	 * otherwise the kind's template.
	 */
	int	 session;
	int	 later;			/* not sent for now: try in a later run */
	int	 nopt;
	const char *opt_id[10], *opt_title[10], *opt_desc[10];
};

struct mcr_result {
	enum mcr_pres cls;
	int	 http;			/* 0: no answer */
	long	 code;			/* the provider's error code, or 0 */
	int	 retry_after;		/* seconds the provider asked, or 0 */
	char	 provider_id[96];
	char	 error[256];		/* "131026: Message undeliverable" */
};

struct mcr_prov;

/*
 * The provider of channel as the config names it, with its secrets read.
 * NULL with a message when it is not usable (missing keys or secrets);
 * for SMS, also when [sms] provider is none (no message then).
 */
struct mcr_prov *mcr_prov_open(const struct mcr_config *, enum mcr_chan);
const char *mcr_prov_name(const struct mcr_prov *);
/* Send one message; always fills res.  Returns 0, or -1 unless sent. */
int	 mcr_prov_send(struct mcr_prov *, const struct mcr_req *,
	    struct mcr_result *);
/* The class of a provider's error code (exposed for the tests). */
enum mcr_pres mcr_prov_classify(const char *provider, int http, long code);
void	 mcr_prov_close(struct mcr_prov *);
/* The name of a channel. */
const char *mcr_chan_name(enum mcr_chan);

/* send.c: the recovery message */

struct mcr_send;

struct mcr_send_stats {
	long	 records, bad, sent, skipped, failed, uncertain, retried;
	long	 fallback;
};

/* Set from a signal handler: finish the request in flight, send no more. */
extern volatile sig_atomic_t mcr_send_quit;

/*
 * A sender over the store: records (message, skip) go to out.  dry: decide
 * and render, change nothing, send nothing (status dry_run).
 */
struct mcr_send *mcr_send_new(struct mcr_store *, const struct mcr_config *,
	    FILE *out, int dry);
/*
 * One line of input (a missed_call record; other types are ignored).
 * where names it in messages ("stdin:3").  A case not yet due is held.
 * Returns 0, or -1 (bad line or store error, reported).
 */
int	 mcr_send_line(struct mcr_send *, const char *, size_t,
	    const char *where);
/* Decide and send case id now; extra: keys to pass through, or NULL. */
int	 mcr_send_case(struct mcr_send *, int64_t id, const char *extra);
/*
 * Send the held cases that are due.  Returns the seconds until the next
 * one due within the given seconds, -1 when none is (or sending stopped).
 */
int	 mcr_send_tick(struct mcr_send *, int within);
/* Wait for and send the held cases due within the given seconds. */
int	 mcr_send_wait(struct mcr_send *, int within);
/*
 * Mark uncertain the claims of processes that died mid-send, then send
 * every case due in the store, waiting for those due within seconds.
 */
int	 mcr_send_due(struct mcr_send *, int within);
/*
 * A message of the conversation (mcr-reply) to q->to, with the claim
 * discipline of the first message: step names it once within the case.
 * Opt-outs are honoured (but for the confirmation of one).  The case's
 * state is not changed.  Returns 0 (sent, failed or skipped: the record
 * says), -1 on a store error.
 */
int	 mcr_send_msg(struct mcr_send *, const struct mcr_req *,
	    int64_t case_id, const char *step, enum mcr_chan);
/*
 * on 1: mcr_send_msg only queues its message, in the caller's open
 * transaction; mcr_send_flush sends what was queued once that has
 * committed, and mcr_send_discard forgets it when it was rolled back.  A
 * message is never lost between a decision and its sending, nor sent
 * twice.  mcr_send_orphans sends what a stopped process had queued.  0 or
 * -1 on a store error.
 */
void	 mcr_send_defer(struct mcr_send *, int on);
int	 mcr_send_flush(struct mcr_send *);
void	 mcr_send_discard(struct mcr_send *);
int	 mcr_send_orphans(struct mcr_send *);
/* The type of the records of mcr_send_msg ("message" by default). */
void	 mcr_send_rectype(struct mcr_send *, const char *);
/*
 * The SMS fallback for a case whose first message failed later (a
 * receipt): sent when the caller has a mobile and SMS is configured.
 */
int	 mcr_send_fallback(struct mcr_send *, int64_t case_id);
/* Only the first half of mcr_send_due. */
int	 mcr_send_recover(struct mcr_send *);
/* The exit status that stopped sending (2 or 75), or 0. */
int	 mcr_send_stopped(struct mcr_send *);
/* The exit status so far. */
int	 mcr_send_status(struct mcr_send *);
const struct mcr_send_stats *mcr_send_stats(struct mcr_send *);
void	 mcr_send_free(struct mcr_send *);

/* reply.c: the booking conversation */

struct mcr_conv;

struct mcr_conv_stats {
	long	 messages, receipts, dups, unknown, bad, replies, offers;
	long	 bookings, taken, escalations;
};

/* The conversation over the store; records go to out; dry: change nothing. */
struct mcr_conv *mcr_conv_new(struct mcr_store *, const struct mcr_config *,
	    FILE *out, int dry);
/*
 * One webhook payload of kind "meta" (JSON) or "twilio" (a form body):
 * every message and receipt in it, each once.  where names it in
 * messages.  Returns 0, -1 for a payload that is neither (reported), -2 on
 * a store error.
 */
int	 mcr_conv_payload(struct mcr_conv *, const char *kind, const char *,
	    size_t, const char *where);
/* The inbox's payloads not done yet, in order: how many, or -1. */
int	 mcr_conv_inbox(struct mcr_conv *);
int	 mcr_conv_status(struct mcr_conv *);
const struct mcr_conv_stats *mcr_conv_stats(struct mcr_conv *);
void	 mcr_conv_free(struct mcr_conv *);

/* followup.c: follow-ups for callers who have not answered */

struct mcr_follow;

struct mcr_follow_stats {
	long	 cases, sent, expired, waiting;
};

struct mcr_follow *mcr_follow_new(struct mcr_store *,
	    const struct mcr_config *, FILE *out, int dry);
/*
 * Send the follow-up steps that are due, expire the cases whose last step
 * has come.  Returns 0, or -1 on a store error.
 */
int	 mcr_follow_run(struct mcr_follow *);
int	 mcr_follow_status(struct mcr_follow *);
const struct mcr_follow_stats *mcr_follow_stats(struct mcr_follow *);
void	 mcr_follow_free(struct mcr_follow *);

/* callbacks.c: the staff call-back list */

struct mcr_callback {
	int64_t	 case_id;
	const char *number;
	const char *state, *reason;
	const char *calls;		/* "2026-01-05T09:10:00Z ..." */
	const char *tried;		/* "first:recovery:sent ..." */
	time_t	 since;			/* the first missed call */
};
/*
 * Call fn for each case staff should call back, opened since the given
 * time: expired, failed, uncertain, landlines.  Soonest first.
 */
int	 mcr_store_callbacks(struct mcr_store *, time_t since,
	    int (*fn)(void *, const struct mcr_callback *), void *);

/* listen.c: the webhook listener */

struct mcr_listener;

struct mcr_listen_stats {
	long	 requests, stored, forbidden, big, bad, failed;
};

/*
 * Listen on addr ("127.0.0.1:8088"; port 0: any free one) on a thread of
 * its own, storing each verified payload in the inbox of the store at
 * dbpath.  NULL (with a message) when it cannot, or when no provider's
 * secret is set.
 */
struct mcr_listener *mcr_listen_start(const struct mcr_config *,
	    const char *addr, const char *dbpath);
/* Readable when the inbox has more; mcr_listen_drain empties it. */
int	 mcr_listen_fd(struct mcr_listener *);
void	 mcr_listen_drain(struct mcr_listener *);
int	 mcr_listen_port(struct mcr_listener *);
void	 mcr_listen_stats(struct mcr_listener *, struct mcr_listen_stats *);
void	 mcr_listen_stop(struct mcr_listener *);

/* notify.c */

/*
 * Run cmd (words split on blanks, no shell) with input on its standard
 * input; it has 10 seconds.  Returns 0 when it exits 0; why says what
 * happened either way.
 */
int	 mcr_hook_run(const char *cmd, const char *input, char *why, size_t);
/* E-mail [escalation] email through [escalation] smtp; 0 or -1 with why. */
int	 mcr_mail_send(const struct mcr_config *, const char *subject,
	    const char *body, char *why, size_t);

/* A free appointment slot: added, or updated when start and clinician
 * are known already. */
int	 mcr_store_slot_put(struct mcr_store *, time_t start, time_t end,
	    const char *clinician, const char *type);

struct mcr_booking {
	int64_t	 id, case_id;
	char	 number[24];
	time_t	 at, start, end;
	char	 clinician[64];
	char	 type[64];
};
/* Call fn for each booking that stands, soonest first; fn returns -1 to
 * stop. */
int	 mcr_store_bookings_each(struct mcr_store *, int (*fn)(void *,
	    const struct mcr_booking *), void *);

/*
 * Forget who the people were in what is older than before: numbers,
 * names, message texts, transcripts; the counts stay, the opt-outs too.
 * *n gets the rows changed.  In the caller's transaction.
 */
int	 mcr_store_purge(struct mcr_store *, time_t before, long *n);
/* An online copy of the store into path (SQLite's backup); 0 or -1. */
int	 mcr_store_backup(struct mcr_store *, const char *path);

/* csv.c: headed CSV files of the practice (patients, slots) */
struct mcr_csv;

/*
 * Read fp as CSV, one record a line (BOM and CRLF accepted).  name is
 * used in messages.  mcr_csv_next gives the fields of the next non-empty
 * line (valid until the next call) and returns their count, or 0 at the
 * end; lines longer than 64 KiB are reported and skipped (-1).
 */
struct mcr_csv *mcr_csv_open(FILE *, const char *name);
int	 mcr_csv_next(struct mcr_csv *, char ***fields);
long	 mcr_csv_line(struct mcr_csv *);
void	 mcr_csv_close(struct mcr_csv *);

/* cdr.c: phone-system exports to legs */

enum mcr_fmt {
	MCR_FMT_NONE, MCR_FMT_ASTERISK, MCR_FMT_QUEUE, MCR_FMT_FREEPBX,
	MCR_FMT_FREESWITCH, MCR_FMT_3CX, MCR_FMT_TWILIO, MCR_FMT_CSV,
	MCR_FMT_JSONL
};

/* What one leg (row) says happened, in rising order of weight. */
enum mcr_res {
	MCR_RES_NONE,		/* says nothing about the outcome */
	MCR_RES_FAILED,
	MCR_RES_IVR,		/* ended in an IVR or announcement */
	MCR_RES_BUSY,
	MCR_RES_NOANSWER,
	MCR_RES_QUEUE,		/* left a queue unanswered */
	MCR_RES_VOICEMAIL,
	MCR_RES_ANSWERED	/* bridged to a person */
};

enum mcr_dir { MCR_DIR_UNKNOWN, MCR_DIR_IN, MCR_DIR_OUT, MCR_DIR_INTERNAL };

/* One row of an export, normalised.  Strings point into the reader. */
struct mcr_leg {
	const char *gkey;	/* group key: the legs of one call share it */
	const char *alias;	/* another key of the same call, or NULL */
	const char *caller;
	const char *caller_name;
	const char *called;
	const char *context;	/* dialplan context, trunk, DDI: for direction */
	const char *channel;
	enum mcr_dir dir;	/* as the format says, or UNKNOWN */
	int	 primary;	/* the caller's own leg: caller and called hold */
	int64_t	 start;		/* naive local or UTC, see utc */
	int64_t	 answer;	/* -1: not answered by a person on this leg */
	int64_t	 end;		/* -1: unknown */
	int	 utc;		/* times are UTC already */
	time_t	 hint;		/* a UTC time of the call start, or -1 */
	enum mcr_res res;
	int	 incomplete;	/* the call may go on (queue without exit) */
	char	 detail[160];	/* the fields that decided res */
	long	 line;
	uint64_t hash;		/* of the raw row */
	/*
	 * Set by the reader thread: numbers normalised (mcr_leg_normalise)
	 * and caller_name already UTF-8.
	 */
	int	 normed;
	struct mcr_number ncaller, ncalled;
};

struct mcr_cdr;

/* Format names, "asterisk" ... "jsonl"; MCR_FMT_NONE gives NULL. */
const char *mcr_cdr_fmtname(enum mcr_fmt);
enum mcr_fmt mcr_cdr_fmtbyname(const char *);
/* The list of names for messages: "asterisk, asterisk-queue, ...". */
const char *mcr_cdr_fmtlist(void);
/*
 * Guess the format from the first bytes of a file.  Returns MCR_FMT_NONE
 * when it cannot tell or more than one fits.
 */
enum mcr_fmt mcr_cdr_detect(const char *, size_t);

/*
 * A reader over a stream of one format.  name is used in messages.
 * mcr_cdr_next returns 1 with a leg, 0 at the end of the complete lines,
 * -1 for a bad row (message printed as "name:line: what"; go on reading),
 * -2 when the first row shows the file is not of this format (stop).
 * Partial last lines are not consumed unless final is set.
 */
struct mcr_cdr *mcr_cdr_open(enum mcr_fmt, FILE *, const char *name,
	    const struct mcr_config *, int64_t line0);
int	 mcr_cdr_next(struct mcr_cdr *, struct mcr_leg *, int final);
/* Bytes and lines consumed so far (complete rows only). */
int64_t	 mcr_cdr_offset(struct mcr_cdr *);
int64_t	 mcr_cdr_line(struct mcr_cdr *);
/* Offset at which the current leg's row started. */
int64_t	 mcr_cdr_legoffset(struct mcr_cdr *);
/* Forget a partial line (after truncation) and reposition. */
void	 mcr_cdr_reset(struct mcr_cdr *, int64_t offset, int64_t line);
void	 mcr_cdr_close(struct mcr_cdr *);

/* cdrq.c: a reader on its own thread, for large files */
struct mcr_cdrq;

/*
 * Read r on a thread of its own, with legs normalised there
 * (mcr_leg_normalise).  mcr_cdrq_next returns what mcr_cdr_next would,
 * with final as given here; a leg's strings stay valid until the next
 * call.  The offsets are those after the last leg returned.  r must not be
 * used directly until mcr_cdrq_close.
 */
struct mcr_cdrq *mcr_cdrq_open(struct mcr_cdr *, const struct mcr_config *,
	    int final);
int	 mcr_cdrq_next(struct mcr_cdrq *, struct mcr_leg *);
int64_t	 mcr_cdrq_offset(struct mcr_cdrq *);
int64_t	 mcr_cdrq_line(struct mcr_cdrq *);
int64_t	 mcr_cdrq_legoffset(struct mcr_cdrq *);
void	 mcr_cdrq_close(struct mcr_cdrq *);

/* csvmap.c: the column map of the csv format */
struct mcr_csvmap *mcr_csvmap_new(void);
void	 mcr_csvmap_free(struct mcr_csvmap *);
/* Set one key of a map; 0, or -1 with *why. */
int	 mcr_csvmap_set(struct mcr_csvmap *, const char *key, const char *val,
	    const char **why);
/* Check a finished map: 0, or -1 with *why. */
int	 mcr_csvmap_check(const struct mcr_csvmap *, const char **why);

/* ingest.c: legs to calls to cases */

struct mcr_ingest;

struct mcr_ingest_stats {
	long	 rows, bad, dup, calls, missed, updated, corrected;
	long	 cases_opened, cases_joined, cases_resolved, skipped_cases;
	long	 repeated_hour, skipped_hour, pending;
	long	 by_outcome[16];
};

/* Outcome names, in the order of the design's list. */
enum mcr_outcome {
	MCR_OUT_NONE = -1,
	MCR_OUT_ANSWERED, MCR_OUT_NO_ANSWER, MCR_OUT_BUSY, MCR_OUT_FAILED,
	MCR_OUT_ABANDONED_QUEUE, MCR_OUT_ABANDONED_IVR, MCR_OUT_SHORT_ABANDON,
	MCR_OUT_VOICEMAIL, MCR_OUT_OUT_OF_HOURS, MCR_OUT_N
};
const char *mcr_outcome_name(int);

/*
 * Records are written to out after each commit; dry: decide everything,
 * write records, store nothing.  all: a "call" record for every new or
 * changed call as well as the missed ones.
 */
struct mcr_ingest *mcr_ingest_new(struct mcr_store *, const struct mcr_config *,
	    FILE *out, int dry, int all);
/* Normalise a leg's caller and called numbers ahead of mcr_ingest_leg. */
void	 mcr_leg_normalise(struct mcr_leg *, const struct mcr_config *);
/* Add a leg read at file offset off (the start of its row). */
int	 mcr_ingest_leg(struct mcr_ingest *, const struct mcr_leg *,
	    const char *file, int64_t off);
/*
 * Decide and store the calls whose legs are settled: all of them with
 * MCR_FLUSH_ALL, those not heard of for quiet_ms with quiet_ms >= 0, and
 * with MCR_FLUSH_WINDOW those an hour away from the latest leg (files
 * are written in time order).  pos (may be NULL) is saved for path in the
 * same transaction, moved back to the first row still held in memory.
 * Records are written after the commit.  Returns 0, or -1 (store error;
 * mcr_store_busy tells busy).
 */
#define MCR_FLUSH_ALL		(-2)
#define MCR_FLUSH_WINDOW	(-1)
int	 mcr_ingest_flush(struct mcr_ingest *, int quiet_ms, const char *path,
	    const struct mcr_filepos *pos, int commit);
/* Calls held in memory. */
size_t	 mcr_ingest_held(struct mcr_ingest *);
/*
 * 1 when the last failed flush met a call already stored that it took for
 * a new one (legs of a call far apart in time): drop what is held with
 * mcr_ingest_restart, which also makes every later call be looked up, and
 * read the file again from its saved position.
 */
int	 mcr_ingest_conflict(struct mcr_ingest *);
void	 mcr_ingest_restart(struct mcr_ingest *);
/*
 * Take back the calls left undecided (a queue call with no exit) that are
 * now older than [ingest] queue_wait, to decide them at the next flush.
 */
int	 mcr_ingest_sweep(struct mcr_ingest *);
const struct mcr_ingest_stats *mcr_ingest_stats(struct mcr_ingest *);
void	 mcr_ingest_free(struct mcr_ingest *);

/* report.c: the figures of a period */

struct mcr_report {
	time_t	 from, to;		/* [from, to), UTC */
	/* inbound calls decided in the period */
	long	 calls, answered, missed, after_hours, withheld, landline;
	long	 outcomes[MCR_OUT_N];
	long	 heat_calls[7][24], heat_missed[7][24];	/* local wday, hour */
	long	 repeat_callers;	/* 3 calls or more within an hour */
	long	 peak_cut;		/* calls an hour that make a peak hour */
	long	 peak_calls, peak_missed, off_calls, off_missed;
	int	 nshort;		/* hours over [report] short_cover */
	struct {
		int	 wday, hour;
		long	 calls, missed;
	}	 shortv[168];
	/* cases opened in the period */
	long	 cases, messaged, replied, booked, booked_messaged, resolved;
	long	 resolved_unmessaged, holdout, holdout_resolved;
	long	 booked_after_followup;
	int	 nskip;
	struct {
		char	 reason[32];
		long	 n;
	}	 skip[24];
	long	 resp_messaged[4], resp_booked[4];	/* <2, 2-10, 10-30, 30+ */
	long	 esc_urgent, esc_other;
	/* the 8 weeks up to to: calls and missed each week */
	long	 wk_calls[8], wk_missed[8];
	/* the 4 weeks before to, for next week's forecast */
	int	 fc_weeks;
	long	 fc_calls[7][24], fc_missed[7][24];
	double	 value, baseline;	/* from the config */
};

/* The figures of [from, to); 0, or -1 on a store error. */
int	 mcr_report_make(struct mcr_store *, const struct mcr_config *,
	    time_t from, time_t to, struct mcr_report *);
/*
 * A period by name (today, yesterday, this-week, last-week, this-month,
 * last-month) or FROM..TO (local dates, both days in), at now in the
 * practice's zone: [from, to) in UTC and a label.  0 or -1 (unknown).
 */
int	 mcr_report_period(const char *, const struct mcr_config *, time_t now,
	    time_t *from, time_t *to, char *label, size_t);
/* Write the report as table, csv, json or html. */
void	 mcr_report_write(FILE *, const struct mcr_report *,
	    const struct mcr_config *, const char *format, const char *label);

#endif
