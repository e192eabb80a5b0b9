/* mcr-admin: set up and check the store and config; opt-outs; patients. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mcr.h"
#include "json.h"

struct opts {
	const char *config, *db, *source;
	int	 dry, verbose;
};

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-hnv] [-c config] [-d store] [-s source] "
	    "command [argument ...]\n"
	    "commands: init | check | optout add number ... |\n"
	    "          optout remove number ... | optout list |\n"
	    "          import-patients file.csv | import-slots file.csv |\n"
	    "          export-bookings | purge --older-than days |\n"
	    "          backup file\n", mcr_util_prog());
	exit(MCR_EXIT_USAGE);
}

static const char *
storepath(const struct opts *o, const struct mcr_config *cfg)
{
	return o->db != NULL ? o->db : cfg->store_path;
}

static int
storefail(struct mcr_store *st)
{
	return st != NULL && mcr_store_busy(st) ? MCR_EXIT_TEMP :
	    errno == EBUSY ? MCR_EXIT_TEMP : MCR_EXIT_PART;
}

/* Open the store for a change; with -n an in-memory copy of nothing. */
static struct mcr_store *
openrw(const struct opts *o, const struct mcr_config *cfg)
{
	const char *p = storepath(o, cfg);

	return mcr_store_open_run(p, cfg->busy_timeout_ms, o->dry);
}

static int
cmd_init(const struct opts *o, const struct mcr_config *cfg)
{
	const char *p = storepath(o, cfg);
	struct mcr_store *st;

	if (o->dry) {
		fprintf(stderr, "%s: would %s the store %s (schema %d)\n",
		    mcr_util_prog(), access(p, F_OK) == 0 ? "migrate" :
		    "create", p, mcr_store_version());
		return MCR_EXIT_OK;
	}
	if ((st = mcr_store_open(p, cfg->busy_timeout_ms, 0)) == NULL)
		return storefail(NULL);
	mcr_store_close(st);
	if (o->verbose)
		fprintf(stderr, "%s: store %s at schema %d\n", mcr_util_prog(),
		    p, mcr_store_version());
	return MCR_EXIT_OK;
}

/* A number as the practice would write it: E.164 or the national form. */
static int
number(const struct mcr_config *cfg, const char *arg, char *e164, size_t n)
{
	struct mcr_number num;

	mcr_phone_norm(arg, cfg->region, cfg->ext_digits, &num);
	if (num.e164[0] == '\0')
		return -1;
	mcr_strlcpy(e164, num.e164, n);
	return 0;
}

static int
check_numbers(const struct mcr_config *cfg, const struct mcr_list *l,
    const char *key)
{
	char e[24];
	int bad = 0;

	for (int i = 0; i < l->n; i++)
		if (number(cfg, l->v[i], e, sizeof(e)) == -1) {
			mcr_warn("%s: [numbers] %s: '%s' is not a valid number",
			    cfg->file ? cfg->file : "(built-in)", key, l->v[i]);
			bad++;
		}
	return bad;
}

/* Where a template is defined, for messages. */
static const char *
tplwhere(const struct mcr_config *cfg, enum mcr_kind k, char *buf, size_t n)
{
	if (cfg->tpl[k].line > 0)
		snprintf(buf, n, "%s:%d: [template.%s]", cfg->file,
		    cfg->tpl[k].line, mcr_kind_name(k));
	else
		snprintf(buf, n, "[template.%s]", mcr_kind_name(k));
	return buf;
}

/*
 * Every template: its text renders, within the channel's limit, and its
 * parameters are known variables; the providers have what they need.
 */
static int
check_send(const struct mcr_config *cfg)
{
	static const enum mcr_kind first[] = { MCR_K_RECOVERY,
	    MCR_K_AFTER_HOURS, MCR_K_PATIENT, MCR_K_FOLLOWUP,
	    MCR_K_FOLLOWUP_CLOSED };
	struct mcr_vars v;
	struct mcr_prov *p;
	char where[128], badv[32];
	int bad = 0;

	memset(&v, 0, sizeof(v));
	v.practice = cfg->name;
	v.name = v.first_name = "Alexandra";
	v.recall = "6-month check-up";
	v.opens = "on Wednesday at 8:30am";
	v.closes = "6:30pm";
	v.time = "12:45pm";
	v.emergency = mcr_tpl_emergency(cfg->type);
	v.slots = "1) Tue 9:30am 2) Wed 2pm 3) Thu 11:15am";
	for (int k = 0; k < MCR_K_N; k++) {
		const struct mcr_list *pl = mcr_tpl_params(cfg, k);
		struct mcr_buf b = { 0 };
		size_t max = k == MCR_K_SMS ? 1600 : 1024;

		tplwhere(cfg, k, where, sizeof(where));
		if (mcr_tpl_render(mcr_tpl_text(cfg, k), &v, &b, badv,
		    sizeof(badv)) == -1) {
			mcr_warn("%s: text: unknown variable {%s}", where, badv);
			bad++;
		} else if (b.len > max) {
			mcr_warn("%s: text: %zu characters with sample values: "
			    "at most %zu", where, b.len, max);
			bad++;
		}
		mcr_buf_free(&b);
		for (int i = 0; i < pl->n; i++)
			if (mcr_vars_get(&v, pl->v[i]) == NULL) {
				mcr_warn("%s: params: unknown variable %s",
				    where, pl->v[i]);
				bad++;
			}
		if (pl->n > 8) {
			mcr_warn("%s: params: at most 8", where);
			bad++;
		}
	}
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		const struct mcr_template *t = &cfg->tpl[first[i]];

		tplwhere(cfg, first[i], where, sizeof(where));
		if (strcmp(cfg->whatsapp_provider, "meta") == 0 &&
		    t->name == NULL) {
			mcr_warn("%s: no name: the meta provider sends "
			    "approved templates only", where);
			bad++;
		}
		if (strcmp(cfg->whatsapp_provider, "twilio") == 0 &&
		    t->content_sid == NULL) {
			mcr_warn("%s: no content_sid: WhatsApp through twilio "
			    "sends Content templates only", where);
			bad++;
		}
	}
	/* keys and secrets, without sending anything */
	if (strcmp(cfg->whatsapp_provider, "outbox") != 0) {
		if ((p = mcr_prov_open(cfg, MCR_CH_WHATSAPP)) == NULL)
			bad++;
		mcr_prov_close(p);
	}
	if (strcmp(cfg->sms_provider, "twilio") == 0) {
		if ((p = mcr_prov_open(cfg, MCR_CH_SMS)) == NULL)
			bad++;
		mcr_prov_close(p);
	}
	return bad;
}

static int
cmd_check(const struct opts *o, const struct mcr_config *cfg)
{
	const char *p = storepath(o, cfg);
	struct mcr_store *st;
	int bad = 0, days = 0, st2 = MCR_EXIT_OK;
	FILE *fp;

	for (int d = 0; d < 7; d++)
		days += cfg->hours.nrange[d] > 0;
	if (days == 0) {
		mcr_warn("%s: [hours]: the practice is never open: every call "
		    "would be after hours", cfg->file ? cfg->file : "(built-in)");
		bad++;
	}
	bad += check_numbers(cfg, &cfg->own, "own");
	bad += check_numbers(cfg, &cfg->staff, "staff");
	if (cfg->blocklist != NULL) {
		if ((fp = fopen(cfg->blocklist, "r")) == NULL) {
			mcr_warn("%s: %s", cfg->blocklist, strerror(errno));
			bad++;
		} else {
			char line[256], e[24];
			long n = 0;

			while (fgets(line, sizeof(line), fp) != NULL) {
				char *s = line + strspn(line, " \t");

				n++;
				s[strcspn(s, "#;\r\n")] = '\0';
				for (char *x = s + strlen(s); x > s &&
				    (x[-1] == ' ' || x[-1] == '\t');)
					*--x = '\0';
				if (*s != '\0' && number(cfg, s, e,
				    sizeof(e)) == -1) {
					mcr_warn("%s:%ld: '%s' is not a valid "
					    "number", cfg->blocklist, n, s);
					bad++;
				}
			}
			fclose(fp);
		}
	}
	bad += check_send(cfg);
	if (access(p, F_OK) == -1) {
		mcr_warn("%s: no store yet: run mcr-admin init", p);
		st2 = MCR_EXIT_PART;
	} else if ((st = mcr_store_open(p, cfg->busy_timeout_ms, 1)) == NULL)
		st2 = storefail(NULL);
	else
		mcr_store_close(st);
	if (bad > 0)
		return MCR_EXIT_USAGE;
	if (st2 == MCR_EXIT_OK && o->verbose)
		fprintf(stderr, "%s: %s: %s (%s, %s), store %s: ok\n",
		    mcr_util_prog(), cfg->file ? cfg->file : "built-in defaults",
		    cfg->name, mcr_config_clinic(cfg->type), cfg->timezone, p);
	return st2;
}

static int
printout(void *arg, const char *num, time_t at, const char *source)
{
	struct mcr_buf *b = arg;

	mcr_buf_reset(b);
	mcr_buf_puts(b, "{");
	mcr_json_kstr(b, "type", "optout");
	mcr_json_kstr(b, "id", num);
	mcr_json_knull(b, "case_id");
	mcr_json_kstr(b, "number", num);
	mcr_json_ktime(b, "at", at);
	mcr_json_kstr(b, "source", source);
	mcr_buf_puts(b, "}\n");
	fwrite(b->s, 1, b->len, stdout);
	return 0;
}

static int
cmd_optout(const struct opts *o, const struct mcr_config *cfg, int argc,
    char *argv[])
{
	struct mcr_store *st;
	struct mcr_buf b = { 0 };
	int status = MCR_EXIT_OK, add, r;
	char e[24], masked[32];

	if (argc < 1)
		usage();
	if (strcmp(argv[0], "list") == 0) {
		if (argc != 1)
			usage();
		if ((st = mcr_store_open(storepath(o, cfg),
		    cfg->busy_timeout_ms, 1)) == NULL)
			return storefail(NULL);
		r = mcr_store_optout_each(st, printout, &b);
		mcr_buf_free(&b);
		if (r == -1)
			status = storefail(st);
		mcr_store_close(st);
		return status;
	}
	if (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "remove") != 0)
		usage();
	add = strcmp(argv[0], "add") == 0;
	if (argc < 2)
		usage();
	if ((st = openrw(o, cfg)) == NULL)
		return storefail(NULL);
	if (mcr_store_begin(st) == -1) {
		status = storefail(st);
		mcr_store_close(st);
		return status;
	}
	for (int i = 1; i < argc; i++) {
		if (number(cfg, argv[i], e, sizeof(e)) == -1) {
			mcr_warn("'%s': not a valid phone number", argv[i]);
			status = MCR_EXIT_PART;
			continue;
		}
		mcr_phone_mask(e, masked, sizeof(masked));
		if (add)
			r = mcr_store_optout_add(st, e, o->source ? o->source :
			    "admin", mcr_now());
		else if ((r = mcr_store_optout_remove(st, e)) == 0) {
			mcr_warn("%s: not on the opt-out list", masked);
			status = MCR_EXIT_PART;
		}
		if (r == -1) {
			status = storefail(st);
			mcr_store_rollback(st);
			mcr_store_close(st);
			return status;
		}
		if (o->dry || o->verbose)
			fprintf(stderr, "%s: %s%s %s\n", mcr_util_prog(),
			    o->dry ? "would " : "", add ? "opt out" :
			    "opt back in", masked);
	}
	if (o->dry)
		mcr_store_rollback(st);
	else if (mcr_store_commit(st) == -1)
		status = storefail(st);
	mcr_store_close(st);
	return status;
}

static int
col(char **f, int n, const char *const *names)
{
	char sq[64];

	for (int i = 0; i < n; i++) {
		mcr_util_squash(f[i], sq, sizeof(sq));
		for (int k = 0; names[k] != NULL; k++)
			if (strcmp(sq, names[k]) == 0)
				return i;
	}
	return -1;
}

/* A time of a practice export: local "YYYY-MM-DD HH:MM" or RFC 3339. */
static int
slottime(struct mcr_tz *tz, const char *v, time_t *t)
{
	int64_t naive;

	if (mcr_time_parse_utc(v, t) == 0)
		return 0;
	if (mcr_time_parse_naive(v, &naive) == -1)
		return -1;
	int fl;

	*t = mcr_tz_local(tz, naive, -1, &fl);
	return 0;
}

static int
cmd_slots(const struct opts *o, const struct mcr_config *cfg, int argc,
    char *argv[])
{
	static const char *const startnames[] = { "start", "starts",
	    "starttime", "startsat", "from", "time", NULL };
	static const char *const endnames[] = { "end", "ends", "endtime",
	    "endsat", "to", "until", NULL };
	static const char *const clinnames[] = { "clinician", "practitioner",
	    "dentist", "doctor", "clinicianname", "with", NULL };
	static const char *const typenames[] = { "type", "appointmenttype",
	    "kind", "slottype", NULL };
	struct mcr_store *st;
	struct mcr_tz *tz;
	struct mcr_csv *c;
	char **f, clin[64];
	int n, cs, ce, cc, ct, status = MCR_EXIT_OK;
	long good = 0, bad = 0;
	time_t a, b;
	FILE *fp;

	if (argc != 1)
		usage();
	if ((fp = fopen(argv[0], "r")) == NULL) {
		mcr_warn("%s: %s", argv[0], strerror(errno));
		return MCR_EXIT_PART;
	}
	c = mcr_csv_open(fp, argv[0]);
	n = mcr_csv_next(c, &f);
	if (n <= 0 || (cs = col(f, n, startnames)) == -1 ||
	    (ce = col(f, n, endnames)) == -1) {
		mcr_warn("%s:1: expected a header with start and end columns "
		    "(and clinician, type)", argv[0]);
		mcr_csv_close(c);
		fclose(fp);
		return MCR_EXIT_USAGE;
	}
	cc = col(f, n, clinnames);
	ct = col(f, n, typenames);
	if ((tz = mcr_tz_open(cfg->timezone)) == NULL ||
	    (st = openrw(o, cfg)) == NULL || mcr_store_begin(st) == -1) {
		status = tz ? storefail(NULL) : MCR_EXIT_USAGE;
		mcr_tz_close(tz);
		mcr_csv_close(c);
		fclose(fp);
		return status;
	}
	while ((n = mcr_csv_next(c, &f)) != 0) {
		if (n < 0 || cs >= n || ce >= n) {
			if (n > 0)
				mcr_warn("%s:%ld: too few columns", argv[0],
				    mcr_csv_line(c));
			bad++;
			continue;
		}
		if (slottime(tz, f[cs], &a) == -1 || slottime(tz, f[ce], &b) ==
		    -1 || b <= a) {
			mcr_warn("%s:%ld: '%s' to '%s' is not a time range "
			    "(YYYY-MM-DD HH:MM, local time)", argv[0],
			    mcr_csv_line(c), f[cs], f[ce]);
			bad++;
			continue;
		}
		mcr_utf8_from_cp1252(cc >= 0 && cc < n ? f[cc] : "", clin,
		    sizeof(clin));
		if (mcr_store_slot_put(st, a, b, clin, ct >= 0 && ct < n ?
		    f[ct] : NULL) == -1) {
			status = storefail(st);
			break;
		}
		good++;
	}
	if (status != MCR_EXIT_OK || o->dry)
		mcr_store_rollback(st);
	else if (mcr_store_commit(st) == -1)
		status = storefail(st);
	if (o->verbose || o->dry)
		fprintf(stderr, "%s: %s: %s%ld slots, %ld bad rows\n",
		    mcr_util_prog(), argv[0], o->dry ? "would import " : "",
		    good, bad);
	mcr_store_close(st);
	mcr_tz_close(tz);
	mcr_csv_close(c);
	fclose(fp);
	if (status == MCR_EXIT_OK && bad > 0)
		status = MCR_EXIT_PART;
	return status;
}

/* iCalendar: text escaped, lines folded at 75 octets, CRLF. */
static void
ics_line(struct mcr_buf *b, const char *name, const char *val)
{
	struct mcr_buf l = { 0 };
	size_t col = 0;

	mcr_buf_puts(&l, name);
	mcr_buf_puts(&l, ":");
	for (const char *p = val; *p != '\0'; p++) {
		if (*p == '\\' || *p == ';' || *p == ',')
			mcr_buf_printf(&l, "\\%c", *p);
		else if (*p == '\n')
			mcr_buf_puts(&l, "\\n");
		else
			mcr_buf_add(&l, p, 1);
	}
	for (size_t i = 0; i < l.len; i++) {
		/* fold, but not inside a UTF-8 sequence */
		if (col >= 74 && ((unsigned char)l.s[i] & 0xc0) != 0x80) {
			mcr_buf_puts(b, "\r\n ");
			col = 1;
		}
		mcr_buf_add(b, l.s + i, 1);
		col++;
	}
	mcr_buf_puts(b, "\r\n");
	mcr_buf_free(&l);
}

static void
ics_time(char *buf, size_t n, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y%m%dT%H%M%SZ", &tm);
}

static int
ics_event(void *arg, const struct mcr_booking *bk)
{
	struct mcr_buf *b = arg;
	char t[32], v[256];

	mcr_buf_puts(b, "BEGIN:VEVENT\r\n");
	snprintf(v, sizeof(v), "booking-%lld@mcr", (long long)bk->id);
	ics_line(b, "UID", v);
	ics_time(t, sizeof(t), bk->at);
	ics_line(b, "DTSTAMP", t);
	ics_time(t, sizeof(t), bk->start);
	ics_line(b, "DTSTART", t);
	ics_time(t, sizeof(t), bk->end);
	ics_line(b, "DTEND", t);
	snprintf(v, sizeof(v), "%s%s%s%s", bk->type[0] ? bk->type :
	    "Appointment", bk->clinician[0] ? " with " : "", bk->clinician,
	    " (booked by message)");
	ics_line(b, "SUMMARY", v);
	snprintf(v, sizeof(v), "Patient's number: %s\nCase %lld",
	    bk->number, (long long)bk->case_id);
	ics_line(b, "DESCRIPTION", v);
	mcr_buf_puts(b, "END:VEVENT\r\n");
	return 0;
}

static int
cmd_export(const struct opts *o, const struct mcr_config *cfg, int argc)
{
	struct mcr_store *st;
	struct mcr_buf b = { 0 };
	int status = MCR_EXIT_OK;

	if (argc != 0)
		usage();
	if ((st = mcr_store_open(storepath(o, cfg), cfg->busy_timeout_ms,
	    1)) == NULL)
		return storefail(NULL);
	mcr_buf_puts(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	    "PRODID:-//mcr//bookings//EN\r\nCALSCALE:GREGORIAN\r\n");
	ics_line(&b, "X-WR-CALNAME", cfg->name);
	if (mcr_store_bookings_each(st, ics_event, &b) == -1)
		status = storefail(st);
	mcr_buf_puts(&b, "END:VCALENDAR\r\n");
	if (status == MCR_EXIT_OK)
		fwrite(b.s, 1, b.len, stdout);
	mcr_buf_free(&b);
	mcr_store_close(st);
	return status;
}

static int
cmd_purge(const struct opts *o, const struct mcr_config *cfg, int argc,
    char *argv[])
{
	struct mcr_store *st;
	long long days;
	const char *e;
	long n = 0;
	int status = MCR_EXIT_OK;

	if (argc != 2 || strcmp(argv[0], "--older-than") != 0)
		usage();
	if (mcr_util_num(argv[1], 1, 36500, &days, &e) == -1) {
		mcr_warn("--older-than %s: days %s (1 to 36500)", argv[1], e);
		return MCR_EXIT_USAGE;
	}
	if ((st = openrw(o, cfg)) == NULL || mcr_store_begin(st) == -1) {
		status = storefail(st);
		mcr_store_close(st);
		return status;
	}
	if (mcr_store_purge(st, mcr_now() - (time_t)days * 86400, &n) == -1)
		status = storefail(st);
	if (status != MCR_EXIT_OK || o->dry)
		mcr_store_rollback(st);
	else if (mcr_store_commit(st) == -1)
		status = storefail(st);
	if (status == MCR_EXIT_OK && (o->verbose || o->dry))
		fprintf(stderr, "%s: %s%ld rows older than %lld days %s\n",
		    mcr_util_prog(), o->dry ? "would purge " : "", n, days,
		    o->dry ? "" : "purged");
	mcr_store_close(st);
	return status;
}

static int
cmd_backup(const struct opts *o, const struct mcr_config *cfg, int argc,
    char *argv[])
{
	struct mcr_store *st;
	int status = MCR_EXIT_OK;

	if (argc != 1)
		usage();
	if (access(argv[0], F_OK) == 0) {
		mcr_warn("%s: exists: give a new file", argv[0]);
		return MCR_EXIT_USAGE;
	}
	if (o->dry) {
		fprintf(stderr, "%s: would copy %s to %s\n", mcr_util_prog(),
		    storepath(o, cfg), argv[0]);
		return MCR_EXIT_OK;
	}
	if ((st = mcr_store_open(storepath(o, cfg), cfg->busy_timeout_ms,
	    1)) == NULL)
		return storefail(NULL);
	if (mcr_store_backup(st, argv[0]) == -1) {
		unlink(argv[0]);
		status = MCR_EXIT_PART;
	}
	mcr_store_close(st);
	return status;
}

static int
cmd_patients(const struct opts *o, const struct mcr_config *cfg, int argc,
    char *argv[])
{
	static const char *const numnames[] = { "number", "phone", "mobile",
	    "mobilenumber", "phonenumber", "telephone", "tel", NULL };
	static const char *const firstnames[] = { "firstname", "forename",
	    "givenname", "first", NULL };
	static const char *const recallnames[] = { "recall", "recallreason",
	    "reason", NULL };
	struct mcr_store *st;
	struct mcr_csv *c;
	char **f, e[24], name[64];
	int n, cn, cf, cr, status = MCR_EXIT_OK;
	long good = 0, bad = 0;
	FILE *fp;

	if (argc != 1)
		usage();
	if ((fp = fopen(argv[0], "r")) == NULL) {
		mcr_warn("%s: %s", argv[0], strerror(errno));
		return MCR_EXIT_PART;
	}
	c = mcr_csv_open(fp, argv[0]);
	n = mcr_csv_next(c, &f);
	if (n <= 0 || (cn = col(f, n, numnames)) == -1) {
		mcr_warn("%s:1: expected a header with a number column "
		    "(number, phone or mobile), first_name and recall", argv[0]);
		mcr_csv_close(c);
		fclose(fp);
		return MCR_EXIT_USAGE;
	}
	cf = col(f, n, firstnames);
	cr = col(f, n, recallnames);
	if ((st = openrw(o, cfg)) == NULL || mcr_store_begin(st) == -1) {
		status = storefail(st);
		mcr_store_close(st);
		mcr_csv_close(c);
		fclose(fp);
		return status;
	}
	while ((n = mcr_csv_next(c, &f)) != 0) {
		if (n < 0 || cn >= n) {
			if (n > 0)
				mcr_warn("%s:%ld: no number column", argv[0],
				    mcr_csv_line(c));
			bad++;
			continue;
		}
		if (number(cfg, f[cn], e, sizeof(e)) == -1) {
			mcr_warn("%s:%ld: '%s' is not a valid phone number",
			    argv[0], mcr_csv_line(c), f[cn]);
			bad++;
			continue;
		}
		/* the first name only: the message greets, nothing more */
		mcr_utf8_from_cp1252(cf >= 0 && cf < n ? f[cf] : "", name,
		    sizeof(name));
		name[strcspn(name, " ")] = '\0';
		if (mcr_store_patient_put(st, e, name, cr >= 0 && cr < n ?
		    f[cr] : NULL, mcr_now()) == -1) {
			status = storefail(st);
			break;
		}
		good++;
	}
	if (status != MCR_EXIT_OK || o->dry)
		mcr_store_rollback(st);
	else if (mcr_store_commit(st) == -1)
		status = storefail(st);
	if (o->verbose || o->dry)
		fprintf(stderr, "%s: %s: %s%ld patients, %ld bad rows\n",
		    mcr_util_prog(), argv[0], o->dry ? "would import " : "",
		    good, bad);
	mcr_store_close(st);
	mcr_csv_close(c);
	fclose(fp);
	if (status == MCR_EXIT_OK && bad > 0)
		status = MCR_EXIT_PART;
	return status;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct mcr_config *cfg;
	int ch, status;

	mcr_util_setprog(argv[0]);
	memset(&o, 0, sizeof(o));
	while ((ch = getopt(argc, argv, "+c:d:hns:v")) != -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'd':
			o.db = optarg;
			break;
		case 'n':
			o.dry = 1;
			break;
		case 's':
			o.source = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if ((cfg = mcr_config_load(o.config)) == NULL)
		return MCR_EXIT_USAGE;
	if (strcmp(argv[0], "init") == 0 && argc == 1)
		status = cmd_init(&o, cfg);
	else if (strcmp(argv[0], "check") == 0 && argc == 1)
		status = cmd_check(&o, cfg);
	else if (strcmp(argv[0], "optout") == 0)
		status = cmd_optout(&o, cfg, argc - 1, argv + 1);
	else if (strcmp(argv[0], "purge") == 0)
		status = cmd_purge(&o, cfg, argc - 1, argv + 1);
	else if (strcmp(argv[0], "backup") == 0)
		status = cmd_backup(&o, cfg, argc - 1, argv + 1);
	else if (strcmp(argv[0], "import-slots") == 0)
		status = cmd_slots(&o, cfg, argc - 1, argv + 1);
	else if (strcmp(argv[0], "export-bookings") == 0)
		status = cmd_export(&o, cfg, argc - 1);
	else if (strcmp(argv[0], "import-patients") == 0)
		status = cmd_patients(&o, cfg, argc - 1, argv + 1);
	else {
		mcr_config_free(cfg);
		usage();
	}
	mcr_config_free(cfg);
	return mcr_util_done(status);
}
