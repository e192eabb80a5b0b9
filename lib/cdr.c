/*
 * Phone-system exports to legs: a line reader with positions, the CSV
 * record splitter (libcsv), format detection and one row parser a format.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mcr.h"
#include "cdrint.h"

#define LINE_MAX_BYTES	65536
#define MAXF		64

static const char *fmtnames[] = { NULL, "asterisk", "asterisk-queue",
    "freepbx", "freeswitch", "3cx", "twilio", "csv", "jsonl" };

const char *
mcr_cdr_fmtname(enum mcr_fmt f)
{
	return fmtnames[f];
}

enum mcr_fmt
mcr_cdr_fmtbyname(const char *s)
{
	for (int i = 1; i <= MCR_FMT_JSONL; i++)
		if (strcmp(s, fmtnames[i]) == 0)
			return (enum mcr_fmt)i;
	return MCR_FMT_NONE;
}

const char *
mcr_cdr_fmtlist(void)
{
	return "asterisk, asterisk-queue, freepbx, freeswitch, 3cx, twilio, "
	    "csv, jsonl";
}

struct mcr_cdr {
	enum mcr_fmt fmt;
	FILE	*fp;
	const char *name;
	const struct mcr_config *cfg;
	/* line reader */
	char	*buf;
	size_t	 cap, len, pos;
	int64_t	 boff;			/* file offset of buf[0] */
	int64_t	 line;			/* lines consumed */
	int64_t	 legoff;
	int	 eof;
	int	 rows;			/* data rows seen, for the shape check */
	/* the current record */
	char	 delim;
	char	*rec;			/* field bytes, NUL-separated */
	size_t	 reccap, reclen;
	size_t	 foff[MAXF];
	int	 nf;
	int	 over;
	/* header-driven formats: column of each named field */
	int	 hdr;
	int	 col[CDR_MAXCOL];
	/* string storage for the leg */
	char	 gkey[160];
	char	 alias[160];
	char	 caller[96];
	char	 name_[128];
	char	 called[96];
	char	 ctx[96];
	char	 chan[96];
	json_t	*json;
};

/* The line reader: complete lines, CR and a leading BOM removed. */
static int
readline(struct mcr_cdr *r, char **line, size_t *len, int final,
    int64_t *off)
{
	char *nl;
	size_t n;

	for (;;) {
		nl = r->len > r->pos ? memchr(r->buf + r->pos, '\n', r->len -
		    r->pos) : NULL;
		if (nl != NULL || (r->eof && final && r->len > r->pos))
			break;
		if (r->len - r->pos > LINE_MAX_BYTES) {
			/* too long: drop it up to the next newline */
			*off = r->boff + (int64_t)r->pos;
			r->pos = r->len;
			r->over = 1;
		}
		if (r->pos > 0) {
			memmove(r->buf, r->buf + r->pos, r->len - r->pos);
			r->boff += (int64_t)r->pos;
			r->len -= r->pos;
			r->pos = 0;
		}
		if (r->cap - r->len < 65536) {
			r->cap = r->cap ? r->cap * 2 : 262144;
			r->buf = mcr_xrealloc(r->buf, r->cap);
		}
		clearerr(r->fp);
		n = fread(r->buf + r->len, 1, r->cap - r->len - 1, r->fp);
		if (n == 0) {
			r->eof = 1;
			if (!final || r->len == r->pos)
				return 0;
		} else {
			r->eof = 0;
			r->len += n;
		}
	}
	*line = r->buf + r->pos;
	*off = r->boff + (int64_t)r->pos;
	if (nl != NULL) {
		*len = (size_t)(nl - *line);
		r->pos = (size_t)(nl - r->buf) + 1;
	} else {
		*len = r->len - r->pos;
		r->pos = r->len;
	}
	(*line)[*len] = '\0';
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*line)[--*len] = '\0';
	if (*off == 0 && *len >= 3 && memcmp(*line, "\xef\xbb\xbf", 3) == 0) {
		*line += 3;
		*len -= 3;
	}
	r->line++;
	return 1;
}

/*
 * Split one line into fields; returns the number of fields (more than
 * MAXF: too many).  Every export here holds one record a line, so this is
 * RFC 4180 for a line: a quoted field may hold the delimiter and doubled
 * quotes, blanks around an unquoted field are dropped, and text after a
 * closing quote is kept, as lenient readers (libcsv among them) do.  Rows
 * are split once each, a million times a backfill: this is several times
 * faster than a general parser.
 */
static int
split(struct mcr_cdr *r, const char *line, size_t len)
{
	const char *p = line, *e = line + len;
	char d = r->delim, *out;
	size_t o;

	r->nf = 0;
	r->reclen = 0;
	if (len + MAXF + 1 > r->reccap) {
		r->reccap = (len + MAXF + 1) * 2;
		r->rec = mcr_xrealloc(r->rec, r->reccap);
	}
	for (;;) {
		if (r->nf == MAXF)
			return ++r->nf;	/* too many: the caller says so */
		out = r->rec + r->reclen;
		o = 0;
		while (p < e && (*p == ' ' || (*p == '\t' && d != '\t')))
			p++;
		if (p < e && *p == '"') {
			for (p++; p < e; ) {
				if (*p == '"') {
					if (p + 1 < e && p[1] == '"') {
						out[o++] = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				out[o++] = *p++;
			}
			while (p < e && *p != d)
				out[o++] = *p++;
		} else {
			const char *f = p, *t;

			while (p < e && *p != d)
				p++;
			for (t = p; t > f && (t[-1] == ' ' || (t[-1] == '\t' &&
			    d != '\t')); t--)
				;
			o = (size_t)(t - f);
			memcpy(out, f, o);
		}
		out[o] = '\0';
		r->foff[r->nf++] = r->reclen;
		r->reclen += o + 1;
		if (p >= e)
			return r->nf;
		p++;
	}
}

static const char *
F(struct mcr_cdr *r, int i)
{
	if (i < 0 || i >= r->nf || i >= MAXF)
		return "";
	return r->rec + r->foff[i];
}

static int parse_freepbx(struct mcr_cdr *, struct mcr_leg *);
static int parse_twilio(struct mcr_cdr *, struct mcr_leg *);
static void readheader(struct mcr_cdr *);

struct mcr_cdr *
mcr_cdr_open(enum mcr_fmt fmt, FILE *fp, const char *name,
    const struct mcr_config *cfg, int64_t line0)
{
	struct mcr_cdr *r = mcr_xcalloc(1, sizeof(*r));

	r->fmt = fmt;
	r->fp = fp;
	r->name = name;
	r->cfg = cfg;
	r->line = line0;
	r->boff = ftello(fp);
	if (r->boff < 0)
		r->boff = 0;
	r->delim = fmt == MCR_FMT_CSV && cfg->csv != NULL ?
	    cdr_csvmap_delim(cfg->csv) : ',';
	for (int i = 0; i < CDR_MAXCOL; i++)
		r->col[i] = -1;
	if (r->boff > 0 && (fmt == MCR_FMT_FREEPBX || fmt == MCR_FMT_TWILIO ||
	    fmt == MCR_FMT_CSV))
		readheader(r);
	/* resumed: the format was told by the rows read on an earlier run */
	if (r->boff > 0)
		r->rows = 1;
	return r;
}

/*
 * Formats with a header row, read from the middle of a file (the next run
 * of a growing export): read the header from the start first.
 */
static void
readheader(struct mcr_cdr *r)
{
	struct mcr_leg tmp;
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t n;
	int64_t line0 = r->line;

	if (fseeko(r->fp, 0, SEEK_SET) == -1)
		return;
	/* the first line that is not blank, as the reader itself finds it */
	for (int64_t no = 1; (n = getline(&line, &cap, r->fp)) > 0; no++) {
		p = line;
		if (no == 1 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
			p += 3;
			n -= 3;
		}
		while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
			p[--n] = '\0';
		if (strspn(p, " \t") == (size_t)n)
			continue;
		split(r, p, (size_t)n);
		r->line = no;
		memset(&tmp, 0, sizeof(tmp));
		if (r->fmt == MCR_FMT_FREEPBX)
			parse_freepbx(r, &tmp);
		else if (r->fmt == MCR_FMT_TWILIO)
			parse_twilio(r, &tmp);
		else
			cdr_parse_csv(r, &tmp);
		r->line = line0;
		break;
	}
	free(line);
	fseeko(r->fp, r->boff, SEEK_SET);
}

void
mcr_cdr_close(struct mcr_cdr *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r->rec);
	json_decref(r->json);
	free(r);
}

int64_t
mcr_cdr_offset(struct mcr_cdr *r)
{
	return r->boff + (int64_t)r->pos;
}

int64_t
mcr_cdr_line(struct mcr_cdr *r)
{
	return r->line;
}

int64_t
mcr_cdr_legoffset(struct mcr_cdr *r)
{
	return r->legoff;
}

void
mcr_cdr_reset(struct mcr_cdr *r, int64_t off, int64_t line)
{
	r->len = r->pos = 0;
	r->boff = off;
	r->line = line;
	r->eof = 0;
	r->hdr = 0;
	fseeko(r->fp, off, SEEK_SET);
}

/* Helpers for the row parsers. */

static void
cpy(char *dst, size_t n, const char *s)
{
	mcr_strlcpy(dst, s ? s : "", n);
}

static int
isint(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static long
toint(const char *s)
{
	long long v;
	const char *e;

	if (mcr_util_num(s, -1, 100000000, &v, &e) == -1)
		return -1;
	return (long)v;
}

/* "HH:MM:SS" or seconds; -1 when neither. */
static long
hms(const char *s)
{
	int h, m, sec;
	char c;

	if (*s == '\0')
		return -1;
	if (isint(s))
		return toint(s);
	if (sscanf(s, "%d:%d:%d%c", &h, &m, &sec, &c) == 3 && h >= 0 &&
	    m >= 0 && m < 60 && sec >= 0 && sec < 60)
		return h * 3600L + m * 60 + sec;
	return -1;
}

int
cdr_bad(struct mcr_cdr *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%lld: ", mcr_util_prog(), r->name,
	    (long long)r->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return r->rows == 0 ? -2 : -1;
}

/* Parse a time field as zoneless local, or with a zone when it has one. */
static int
when(struct mcr_cdr *r, struct mcr_leg *l, const char *s, int64_t *t,
    const char *what)
{
	time_t u;

	if (*s == '\0') {
		*t = -1;
		return 0;
	}
	if (mcr_time_parse_naive(s, t) == 0)
		return 0;
	if (mcr_time_parse_utc(s, &u) == 0) {
		/* zoned: all times of the leg are then UTC */
		l->utc = 1;
		*t = u;
		return 0;
	}
	return cdr_bad(r, "bad %s time '%.40s'", what, s);
}

static int
isuniqueid(const char *s)
{
	const char *dot;

	if ((dot = strrchr(s, '.')) == NULL || dot == s)
		return 0;
	for (const char *p = dot + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return isdigit((unsigned char)dot[-1]);
}

/* The epoch seconds in an Asterisk uniqueid ("[system-]1706368044.12"). */
static time_t
uniqueid_epoch(const char *s)
{
	const char *dot = strrchr(s, '.'), *p;
	long long v = 0;

	if (dot == NULL)
		return -1;
	for (p = dot; p > s && isdigit((unsigned char)p[-1]); p--)
		;
	if (dot - p < 9 || dot - p > 11)
		return -1;
	for (; p < dot; p++)
		v = v * 10 + (*p - '0');
	return (time_t)v;
}

/* '"Name" <num>' into name and number. */
static void
clid(const char *s, char *name, size_t nn, char *num, size_t numn)
{
	const char *lt = strrchr(s, '<'), *gt;

	name[0] = num[0] = '\0';
	if (lt == NULL || (gt = strchr(lt, '>')) == NULL) {
		cpy(num, numn, s);
		return;
	}
	snprintf(num, numn, "%.*s", (int)(gt - lt - 1), lt + 1);
	while (*s == ' ')
		s++;
	if (*s == '"') {
		const char *q = strchr(s + 1, '"');

		if (q != NULL && q < lt)
			snprintf(name, nn, "%.*s", (int)(q - s - 1), s + 1);
	} else if (lt > s) {
		snprintf(name, nn, "%.*s", (int)(lt - s), s);
		for (char *e = name + strlen(name); e > name && e[-1] == ' ';)
			*--e = '\0';
	}
}

static int
app_is(const char *app, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(app, *list) == 0)
			return 1;
	return 0;
}

/* Concatenate the strings up to a NULL into d, cut to n - 1 bytes. */
static void
cat(char *d, size_t n, ...)
{
	va_list ap;
	const char *s;
	size_t o = 0;

	va_start(ap, n);
	while ((s = va_arg(ap, const char *)) != NULL && o < n - 1) {
		size_t k = strlen(s);

		if (k > n - 1 - o)
			k = n - 1 - o;
		memcpy(d + o, s, k);
		o += k;
	}
	va_end(ap);
	d[o] = '\0';
}

/*
 * Asterisk (cdr_csv and the FreePBX report): what one CDR row says.
 * A row counts as a person answering only when a Dial or Queue bridged a
 * channel that is not a Local helper and talk time ran (cdr-formats.md 0.2).
 */
static void
asterisk_res(struct mcr_leg *l, const char *dst, const char *dstchan,
    const char *app, const char *disp, long billsec)
{
	static const char *const bridge[] = { "Dial", "Queue", "AppDial",
	    "AppQueue", "FollowMe", "Dial2", NULL };
	int local = strncasecmp(dstchan, "Local/", 6) == 0;
	const char *why;

	if (strcasecmp(app, "VoiceMail") == 0 ||
	    strncasecmp(dst, "vmu", 3) == 0 || strncasecmp(dst, "vmb", 3) == 0) {
		l->res = MCR_RES_VOICEMAIL;
		why = "reached voicemail";
	} else if (strcasecmp(disp, "ANSWERED") == 0 || strcmp(disp, "8") == 0) {
		if (app_is(app, bridge) && *dstchan != '\0' && !local &&
		    billsec > 0) {
			l->res = MCR_RES_ANSWERED;
			why = "bridged to a person";
		} else if (strcasecmp(app, "Queue") == 0) {
			l->res = MCR_RES_QUEUE;
			why = "answered by the queue, no member bridged";
		} else if (app_is(app, bridge) && local) {
			l->res = MCR_RES_NONE;
			why = "answered by a Local helper channel";
		} else if (app_is(app, bridge)) {
			l->res = MCR_RES_NOANSWER;
			why = "no talk time";
		} else {
			l->res = MCR_RES_IVR;
			why = "answered by the system, never bridged";
		}
	} else if (strcasecmp(disp, "BUSY") == 0 || strcmp(disp, "4") == 0) {
		l->res = MCR_RES_BUSY;
		why = "busy";
	} else if (strcasecmp(disp, "FAILED") == 0 ||
	    strcasecmp(disp, "CONGESTION") == 0 || strcmp(disp, "2") == 0 ||
	    strcmp(disp, "16") == 0) {
		l->res = MCR_RES_FAILED;
		why = "failed";
	} else if (strcasecmp(disp, "NO ANSWER") == 0 ||
	    strcasecmp(disp, "CANCEL") == 0 || strcmp(disp, "0") == 0 ||
	    strcmp(disp, "32") == 0) {
		if (strcasecmp(app, "Queue") == 0)
			l->res = MCR_RES_QUEUE;
		else if (*dstchan == '\0' && !app_is(app, bridge))
			l->res = MCR_RES_IVR;
		else
			l->res = MCR_RES_NOANSWER;
		why = "not answered";
	} else {
		l->res = MCR_RES_NONE;
		why = "unknown disposition";
	}
	if (l->res != MCR_RES_ANSWERED)
		l->answer = -1;
	/* once a row: plain copies, not snprintf */
	cat(l->detail, sizeof(l->detail), why, ": disposition ",
	    *disp ? disp : "(empty)", ", lastapp ", *app ? app : "(empty)",
	    *dstchan ? ", dstchannel " : "", dstchan, (const char *)NULL);
}

struct astrow {
	const char *src, *dst, *dcontext, *clid, *channel, *dstchannel;
	const char *lastapp, *start, *answer, *end, *disposition;
	const char *uniqueid, *linkedid, *did;
	long	 duration, billsec;
	int	 calldate;		/* FreePBX: no answer or end column */
};

static int
asterisk_leg(struct mcr_cdr *r, const struct astrow *a, struct mcr_leg *l)
{
	char num[96];

	if (a->duration < 0)
		return cdr_bad(r, "bad duration '%.20s'", "");
	if (a->billsec < 0 || a->billsec > a->duration + 1)
		return cdr_bad(r, "bad billsec for duration %ld", a->duration);
	if (when(r, l, a->start, &l->start, "start") != 0)
		return r->rows == 0 ? -2 : -1;
	if (l->start < 0)
		return cdr_bad(r, "empty start time");
	if (a->calldate) {
		l->end = l->start + a->duration;
		l->answer = a->billsec > 0 ? l->end - a->billsec : -1;
	} else {
		if (when(r, l, a->answer, &l->answer, "answer") != 0 ||
		    when(r, l, a->end, &l->end, "end") != 0)
			return r->rows == 0 ? -2 : -1;
		if (l->end < 0)
			l->end = l->start + a->duration;
		if (l->answer >= 0 && a->billsec > 0)
			l->answer = l->end - a->billsec;
	}
	clid(a->clid, r->name_, sizeof(r->name_), num, sizeof(num));
	cpy(r->caller, sizeof(r->caller), *a->src ? a->src : num);
	cpy(r->called, sizeof(r->called), a->dst);
	cpy(r->ctx, sizeof(r->ctx), a->did && *a->did ? a->did : a->dcontext);
	cpy(r->chan, sizeof(r->chan), a->channel);
	if (a->linkedid != NULL && *a->linkedid)
		snprintf(r->gkey, sizeof(r->gkey), "ast:%s", a->linkedid);
	else if (a->uniqueid != NULL && *a->uniqueid)
		snprintf(r->gkey, sizeof(r->gkey), "ast:%s", a->uniqueid);
	else
		snprintf(r->gkey, sizeof(r->gkey), "ast:%s|%s", a->src,
		    a->start);
	l->gkey = r->gkey;
	l->caller = r->caller;
	l->caller_name = r->name_[0] ? r->name_ : NULL;
	l->called = r->called;
	l->context = a->dcontext;
	if (a->did && *a->did)
		l->context = r->ctx;
	l->channel = r->chan;
	l->primary = strncasecmp(a->channel, "Local/", 6) != 0;
	l->hint = a->uniqueid ? uniqueid_epoch(a->uniqueid) : -1;
	asterisk_res(l, a->dst, a->dstchannel, a->lastapp, a->disposition,
	    a->billsec);
	return 1;
}

static int
parse_asterisk(struct mcr_cdr *r, struct mcr_leg *l)
{
	struct astrow a;
	int n = r->nf, extra;

	if (n < 16 || n > 21)
		return cdr_bad(r, "not an asterisk Master.csv row: expected "
		    "16 to 21 fields, found %d", n);
	memset(&a, 0, sizeof(a));
	a.src = F(r, 1);
	a.dst = F(r, 2);
	a.dcontext = F(r, 3);
	a.clid = F(r, 4);
	a.channel = F(r, 5);
	a.dstchannel = F(r, 6);
	a.lastapp = F(r, 7);
	a.start = F(r, 9);
	a.answer = F(r, 10);
	a.end = F(r, 11);
	a.disposition = F(r, 14);
	if (!isint(F(r, 12)) || !isint(F(r, 13)))
		return cdr_bad(r, "bad duration or billsec '%.20s', '%.20s'%s",
		    F(r, 12), F(r, 13), r->rows == 0 ?
		    ": not an asterisk Master.csv row" : "");
	a.duration = toint(F(r, 12));
	a.billsec = toint(F(r, 13));
	/* newcdrcolumns adds peeraccount, linkedid, sequence (an int) */
	extra = n - 16;
	if (n >= 19 && isint(F(r, n - 1))) {
		a.linkedid = F(r, n - 2);
		extra -= 3;
	}
	if (extra >= 1 && isuniqueid(F(r, 16)))
		a.uniqueid = F(r, 16);
	return asterisk_leg(r, &a, l);
}

/* Header names of the header-driven formats. */
static const char *const colnames[CDR_NCOL][4] = {
	[C_CALLDATE] = { "calldate", NULL },
	[C_CLID] = { "clid", NULL },
	[C_SRC] = { "src", NULL },
	[C_DST] = { "dst", NULL },
	[C_DCONTEXT] = { "dcontext", NULL },
	[C_CHANNEL] = { "channel", NULL },
	[C_DSTCHANNEL] = { "dstchannel", NULL },
	[C_LASTAPP] = { "lastapp", NULL },
	[C_DURATION] = { "duration", NULL },
	[C_BILLSEC] = { "billsec", NULL },
	[C_DISPOSITION] = { "disposition", NULL },
	[C_UNIQUEID] = { "uniqueid", NULL },
	[C_LINKEDID] = { "linkedid", NULL },
	[C_DID] = { "did", NULL },
	[C_SID] = { "sid", "callsid", NULL },
	[C_PARENT] = { "parentcallsid", "parentsid", NULL },
	[C_FROM] = { "from", "fromformatted", NULL },
	[C_TO] = { "to", "toformatted", NULL },
	[C_STATUS] = { "status", NULL },
	[C_DIRECTION] = { "direction", NULL },
	[C_STARTTIME] = { "starttime", "datecreated", NULL },
	[C_ENDTIME] = { "endtime", NULL },
	[C_CALLERNAME] = { "callername", NULL },
	[C_TWDURATION] = { "duration", NULL },
};

static void
header(struct mcr_cdr *r, int first, int last)
{
	char sq[64];

	for (int c = first; c <= last; c++)
		r->col[c] = -1;
	for (int i = 0; i < r->nf && i < MAXF; i++) {
		mcr_util_squash(F(r, i), sq, sizeof(sq));
		for (int c = first; c <= last; c++)
			for (int k = 0; colnames[c][k] != NULL; k++)
				if (r->col[c] == -1 &&
				    strcmp(sq, colnames[c][k]) == 0)
					r->col[c] = i;
	}
	r->hdr = 1;
}

#define COL(c)	F(r, r->col[(c)])

static int
parse_freepbx(struct mcr_cdr *r, struct mcr_leg *l)
{
	struct astrow a;

	if (!r->hdr) {
		header(r, C_CALLDATE, C_DID);
		if (r->col[C_CALLDATE] == -1 || r->col[C_DISPOSITION] == -1 ||
		    r->col[C_BILLSEC] == -1 || r->col[C_DURATION] == -1 ||
		    r->col[C_SRC] == -1) {
			r->hdr = 0;
			return cdr_bad(r, "not a freepbx CDR report: expected "
			    "a header with calldate, src, duration, billsec "
			    "and disposition");
		}
		return 0;
	}
	memset(&a, 0, sizeof(a));
	a.calldate = 1;
	a.start = COL(C_CALLDATE);
	a.clid = COL(C_CLID);
	a.src = COL(C_SRC);
	a.dst = COL(C_DST);
	a.dcontext = COL(C_DCONTEXT);
	a.channel = COL(C_CHANNEL);
	a.dstchannel = COL(C_DSTCHANNEL);
	a.lastapp = COL(C_LASTAPP);
	a.disposition = COL(C_DISPOSITION);
	a.uniqueid = COL(C_UNIQUEID);
	a.linkedid = COL(C_LINKEDID);
	a.did = COL(C_DID);
	if (!isint(COL(C_DURATION)) || !isint(COL(C_BILLSEC)))
		return cdr_bad(r, "bad duration or billsec '%.20s', '%.20s'",
		    COL(C_DURATION), COL(C_BILLSEC));
	a.duration = toint(COL(C_DURATION));
	a.billsec = toint(COL(C_BILLSEC));
	return asterisk_leg(r, &a, l);
}

/* FreeSWITCH mod_cdr_csv, the default (13) and example (15) templates. */
static int
parse_freeswitch(struct mcr_cdr *r, struct mcr_leg *l)
{
	const char *dest = F(r, 2), *ans = F(r, 5), *cause = F(r, 9);
	const char *bleg = F(r, 11), *why;
	long billsec;

	if (r->nf < 13 || r->nf > 20)
		return cdr_bad(r, "not a freeswitch mod_cdr_csv row: expected "
		    "13 or 15 fields, found %d", r->nf);
	if (!isint(F(r, 7)) || !isint(F(r, 8)))
		return cdr_bad(r, "bad duration or billsec '%.20s', '%.20s'",
		    F(r, 7), F(r, 8));
	billsec = toint(F(r, 8));
	if (when(r, l, F(r, 4), &l->start, "start") != 0 ||
	    when(r, l, ans, &l->answer, "answer") != 0 ||
	    when(r, l, F(r, 6), &l->end, "end") != 0)
		return r->rows == 0 ? -2 : -1;
	if (l->start < 0)
		return cdr_bad(r, "empty start time");
	if (*F(r, 10) == '\0')
		return cdr_bad(r, "empty uuid");
	snprintf(r->gkey, sizeof(r->gkey), "fs:%s", F(r, 10));
	l->gkey = r->gkey;
	if (*bleg) {
		snprintf(r->alias, sizeof(r->alias), "fs:%s", bleg);
		l->alias = r->alias;
	}
	cpy(r->name_, sizeof(r->name_), F(r, 0));
	cpy(r->caller, sizeof(r->caller), F(r, 1));
	cpy(r->called, sizeof(r->called), dest);
	cpy(r->ctx, sizeof(r->ctx), F(r, 3));
	l->caller = r->caller;
	l->caller_name = r->name_[0] ? r->name_ : NULL;
	l->called = r->called;
	l->context = r->ctx;
	l->primary = 1;
	if (strcasecmp(dest, "voicemail") == 0 || strncmp(dest, "*98", 3) == 0 ||
	    strncmp(dest, "*97", 3) == 0) {
		l->res = MCR_RES_VOICEMAIL;
		why = "reached voicemail";
	} else if (*ans && *bleg && billsec > 0) {
		l->res = MCR_RES_ANSWERED;
		why = "bridged to a person";
	} else if (*ans && *bleg == '\0') {
		l->res = MCR_RES_IVR;
		why = "answered by the system, never bridged";
	} else if (strcmp(cause, "USER_BUSY") == 0) {
		l->res = MCR_RES_BUSY;
		why = "busy";
	} else if (strcmp(cause, "NORMAL_CLEARING") == 0 ||
	    strcmp(cause, "ORIGINATOR_CANCEL") == 0 ||
	    strcmp(cause, "NO_ANSWER") == 0 ||
	    strcmp(cause, "NO_USER_RESPONSE") == 0 ||
	    strcmp(cause, "RECOVERY_ON_TIMER_EXPIRE") == 0 ||
	    strcmp(cause, "ALLOTTED_TIMEOUT") == 0 ||
	    strcmp(cause, "LOSE_RACE") == 0) {
		l->res = MCR_RES_NOANSWER;
		why = "not answered";
	} else {
		l->res = MCR_RES_FAILED;
		why = "failed";
	}
	if (l->res != MCR_RES_ANSWERED)
		l->answer = -1;
	else if (l->end >= 0)
		l->answer = l->end - billsec;
	snprintf(l->detail, sizeof(l->detail), "%s: hangup_cause %s%s%s%s",
	    why, *cause ? cause : "(empty)", *ans ? ", answered" : ", "
	    "answer_stamp empty", *bleg ? ", bleg_uuid set" : "", "");
	return 1;
}

/* 3CX CDR service output, all 27 fields in the usual order. */
static int
parse_3cx(struct mcr_cdr *r, struct mcr_leg *l)
{
	const char *ans = F(r, 4), *reason = F(r, 6), *from = F(r, 7);
	const char *ftype = F(r, 20), *ttype = F(r, 21), *why;
	int fext, text;

	if (r->nf < 27 || r->nf > 29 || strncmp(F(r, 0), "Call ", 5) != 0)
		return cdr_bad(r, "not a 3cx CDR row: expected 27 fields "
		    "starting with 'Call N', found %d", r->nf);
	if (when(r, l, F(r, 3), &l->start, "start") != 0 ||
	    when(r, l, ans, &l->answer, "answer") != 0 ||
	    when(r, l, F(r, 5), &l->end, "end") != 0)
		return r->rows == 0 ? -2 : -1;
	if (l->start < 0)
		return cdr_bad(r, "empty start time");
	snprintf(r->gkey, sizeof(r->gkey), "3cx:%s", F(r, 0));
	l->gkey = r->gkey;
	cpy(r->caller, sizeof(r->caller), from);
	cpy(r->called, sizeof(r->called), *F(r, 11) ? F(r, 11) : F(r, 8));
	cpy(r->name_, sizeof(r->name_), F(r, 23));
	l->caller = r->caller;
	l->called = r->called;
	l->caller_name = r->name_[0] ? r->name_ : NULL;
	l->context = F(r, 10);
	l->primary = 1;
	fext = strcasecmp(ftype, "External") == 0 || strcasecmp(ftype,
	    "Line") == 0;
	text = strcasecmp(ttype, "External") == 0 || strcasecmp(ttype,
	    "Line") == 0;
	/* MakeCall, PlayFile: the system's own calls, marked External */
	if (fext && (strcmp(from, "MakeCall") == 0 ||
	    strcmp(from, "PlayFile") == 0))
		fext = 0;
	l->dir = fext ? MCR_DIR_IN : text ? MCR_DIR_OUT : MCR_DIR_INTERNAL;
	if (strcmp(reason, "RouteBusy") == 0) {
		l->res = MCR_RES_BUSY;
		why = "busy";
	} else if (strcmp(reason, "Failed") == 0 ||
	    strcmp(reason, "NotAvailable") == 0 ||
	    strcmp(reason, "NoRouteExists") == 0) {
		l->res = MCR_RES_FAILED;
		why = "failed";
	} else if (*ans == '\0') {
		l->res = MCR_RES_NOANSWER;
		why = "not answered";
	} else if (*F(r, 14) == '\0' && strcmp(reason, "TerminatedBySrc") == 0
	    && strncmp(from, "Ext.", 4) != 0 && fext) {
		/* the queue or IVR answered; no agent took it (dorel14) */
		l->res = MCR_RES_QUEUE;
		why = "answered by a queue or IVR, final-dn empty";
	} else {
		l->res = MCR_RES_ANSWERED;
		why = "answered";
	}
	if (l->res != MCR_RES_ANSWERED)
		l->answer = -1;
	snprintf(l->detail, sizeof(l->detail), "%s: reason-terminated %s%s%s",
	    why, *reason ? reason : "(empty)", *ans ? "" :
	    ", time-answered empty", *F(r, 14) ? "" : ", final-dn empty");
	return 1;
}

/* Twilio call log export (a header with the Call resource's names). */
static int
parse_twilio(struct mcr_cdr *r, struct mcr_leg *l)
{
	const char *st, *dir, *parent, *why;
	long dur;

	if (!r->hdr) {
		header(r, C_SID, C_TWDURATION);
		if (r->col[C_SID] == -1 || r->col[C_STATUS] == -1 ||
		    r->col[C_FROM] == -1 || r->col[C_TO] == -1 ||
		    r->col[C_STARTTIME] == -1) {
			r->hdr = 0;
			return cdr_bad(r, "not a twilio call log: expected a "
			    "header with Sid, From, To, Status and Start Time");
		}
		return 0;
	}
	st = COL(C_STATUS);
	dir = COL(C_DIRECTION);
	parent = COL(C_PARENT);
	if (*COL(C_SID) == '\0')
		return cdr_bad(r, "empty call sid");
	if (when(r, l, COL(C_STARTTIME), &l->start, "start") != 0 ||
	    when(r, l, COL(C_ENDTIME), &l->end, "end") != 0)
		return -1;
	if (l->start < 0)
		return cdr_bad(r, "empty start time");
	dur = r->col[C_TWDURATION] >= 0 ? hms(COL(C_TWDURATION)) : -1;
	if (l->end < 0 && dur >= 0)
		l->end = l->start + dur;
	snprintf(r->gkey, sizeof(r->gkey), "tw:%s", *parent ? parent :
	    COL(C_SID));
	l->gkey = r->gkey;
	if (*parent == '\0') {
		cpy(r->caller, sizeof(r->caller), COL(C_FROM));
		cpy(r->called, sizeof(r->called), COL(C_TO));
		l->caller = r->caller;
		l->called = r->called;
		cpy(r->name_, sizeof(r->name_), COL(C_CALLERNAME));
		l->caller_name = r->name_[0] ? r->name_ : NULL;
		l->primary = 1;
		l->dir = strcasecmp(dir, "inbound") == 0 ? MCR_DIR_IN :
		    MCR_DIR_OUT;
	}
	l->answer = -1;
	if (strcasecmp(st, "completed") == 0 || strcasecmp(st,
	    "in-progress") == 0) {
		if (*parent || strncasecmp(dir, "outbound", 8) == 0) {
			l->res = MCR_RES_ANSWERED;
			l->answer = l->start;
			why = "dialled leg completed";
		} else {
			l->res = MCR_RES_IVR;
			why = "answered by TwiML, no dialled leg completed";
		}
	} else if (strcasecmp(st, "busy") == 0) {
		l->res = MCR_RES_BUSY;
		why = "busy";
	} else if (strcasecmp(st, "failed") == 0) {
		l->res = MCR_RES_FAILED;
		why = "failed";
	} else if (strcasecmp(st, "no-answer") == 0 || strcasecmp(st,
	    "canceled") == 0) {
		l->res = MCR_RES_NOANSWER;
		why = "not answered";
	} else if (strcasecmp(st, "queued") == 0 || strcasecmp(st,
	    "ringing") == 0) {
		l->res = MCR_RES_NONE;
		l->incomplete = 1;
		why = "still ringing";
	} else
		return cdr_bad(r, "unknown call status '%.20s'", st);
	snprintf(l->detail, sizeof(l->detail), "%s: status %s, direction %s",
	    why, st, *dir ? dir : "(empty)");
	return 1;
}

/* queue_log: epoch|callid|queue|agent|event|data1|data2|... */
static int
parse_queue(struct mcr_cdr *r, const char *line, struct mcr_leg *l)
{
	const char *f[10];
	char *copy = r->rec, *p;
	int n = 0;
	long long epoch;
	const char *ev, *e;

	if (strlen(line) + 1 > r->reccap) {
		r->reccap = strlen(line) * 2 + 1;
		r->rec = copy = mcr_xrealloc(r->rec, r->reccap);
	}
	strcpy(copy, line);
	for (p = copy; n < 10; ) {
		f[n++] = p;
		if ((p = strchr(p, '|')) == NULL)
			break;
		*p++ = '\0';
	}
	if (n < 5 || mcr_util_num(f[0], 100000000, 32503680000LL, &epoch,
	    &e) == -1)
		return cdr_bad(r, "not a queue_log line: expected "
		    "epoch|callid|queue|agent|event");
	for (int i = n; i < 10; i++)
		f[i] = "";
	ev = f[4];
	if (strcmp(f[1], "NONE") == 0 || strcmp(f[1], "REALTIME") == 0 ||
	    strcmp(f[1], "CLI") == 0 || strcmp(f[1], "MANAGER") == 0 ||
	    *f[1] == '\0')
		return 0;	/* housekeeping */
	l->utc = 1;
	l->start = l->end = epoch;
	l->answer = -1;
	snprintf(r->gkey, sizeof(r->gkey), "ast:%s", f[1]);
	l->gkey = r->gkey;
	cpy(r->ctx, sizeof(r->ctx), f[2]);
	l->context = r->ctx;
	if (strcmp(ev, "ENTERQUEUE") == 0) {
		cpy(r->caller, sizeof(r->caller), f[6]);
		cpy(r->name_, sizeof(r->name_), f[8]);
		l->caller = r->caller;
		l->caller_name = r->name_[0] ? r->name_ : NULL;
		l->called = r->ctx;
		l->primary = 1;
		l->res = MCR_RES_NONE;
		l->incomplete = 1;
		snprintf(l->detail, sizeof(l->detail), "entered queue %.60s",
		    f[2]);
		return 1;
	}
	if (strcmp(ev, "CONNECT") == 0 || strcmp(ev, "COMPLETECALLER") == 0 ||
	    strcmp(ev, "COMPLETEAGENT") == 0 ||
	    strcmp(ev, "BLINDTRANSFER") == 0 ||
	    strcmp(ev, "ATTENDEDTRANSFER") == 0) {
		long hold = toint(strcmp(ev, "CONNECT") == 0 ? f[5] :
		    strcmp(ev, "BLINDTRANSFER") == 0 ? f[7] :
		    strcmp(ev, "ATTENDEDTRANSFER") == 0 ? f[7] : f[5]);
		long talk = strcmp(ev, "COMPLETECALLER") == 0 ||
		    strcmp(ev, "COMPLETEAGENT") == 0 ? toint(f[6]) : 0;

		l->res = MCR_RES_ANSWERED;
		l->answer = epoch - (talk > 0 ? talk : 0);
		l->start = l->answer - (hold > 0 ? hold : 0);
		if (talk > 0)
			l->end = epoch;
		snprintf(l->detail, sizeof(l->detail), "%s by agent %.40s",
		    ev, f[3]);
		return 1;
	}
	if (strcmp(ev, "ABANDON") == 0 || strcmp(ev, "EXITEMPTY") == 0 ||
	    strcmp(ev, "EXITWITHKEY") == 0 || strcmp(ev, "WITHDRAW") == 0 ||
	    strcmp(ev, "EXITWITHTIMEOUT") == 0) {
		const char *wait = strcmp(ev, "EXITWITHKEY") == 0 ? f[8] :
		    f[7];
		long w = toint(wait);

		l->res = strcmp(ev, "EXITWITHTIMEOUT") == 0 ?
		    MCR_RES_NOANSWER : MCR_RES_QUEUE;
		if (w > 0)
			l->start = epoch - w;
		snprintf(l->detail, sizeof(l->detail), "%s from queue %.40s "
		    "after %s s", ev, f[2], *wait ? wait : "?");
		return 1;
	}
	return 0;	/* RINGNOANSWER and others: no outcome */
}

static int
jtime(struct mcr_cdr *r, struct mcr_leg *l, json_t *o, const char *k1,
    const char *k2, int64_t *t)
{
	json_t *v = json_object_get(o, k1);
	time_t u;

	if (v == NULL && k2 != NULL)
		v = json_object_get(o, k2);
	*t = -1;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*t = json_integer_value(v);
		if (*t < 0 || *t > 32503680000LL)
			return cdr_bad(r, "%s: %lld is not seconds since 1970",
			    k1, (long long)*t);
		l->utc = 1;
		return 0;
	}
	if (!json_is_string(v))
		return cdr_bad(r, "%s: expected a time", k1);
	if (mcr_time_parse_utc(json_string_value(v), &u) == 0) {
		*t = u;
		l->utc = 1;
		return 0;
	}
	if (mcr_time_parse_naive(json_string_value(v), t) == 0)
		return 0;
	return cdr_bad(r, "%s: bad time '%.40s'", k1, json_string_value(v));
}

static const char *
jstr(json_t *o, const char *k1, const char *k2)
{
	json_t *v = json_object_get(o, k1);

	if (v == NULL && k2 != NULL)
		v = json_object_get(o, k2);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A normalised call: the jsonl format (mcr-json(5), "call"). */
static int
parse_jsonl(struct mcr_cdr *r, const char *line, struct mcr_leg *l)
{
	json_error_t err;
	json_t *o, *id;
	const char *s, *type, *out;
	static const struct { const char *name; enum mcr_res res; } map[] = {
		{ "answered", MCR_RES_ANSWERED }, { "no_answer",
		MCR_RES_NOANSWER }, { "short_abandon", MCR_RES_NOANSWER },
		{ "busy", MCR_RES_BUSY }, { "failed", MCR_RES_FAILED },
		{ "abandoned_queue", MCR_RES_QUEUE }, { "abandoned_ivr",
		MCR_RES_IVR }, { "out_of_hours", MCR_RES_IVR },
		{ "voicemail", MCR_RES_VOICEMAIL }, { NULL, MCR_RES_NONE }
	};

	json_decref(r->json);
	r->json = o = json_loads(line, 0, &err);
	if (o == NULL)
		return cdr_bad(r, "not JSON: %s (column %d)", err.text,
		    err.column);
	if (!json_is_object(o))
		return cdr_bad(r, "not a JSON object");
	type = jstr(o, "type", NULL);
	if (type != NULL && strcmp(type, "call") != 0 &&
	    strcmp(type, "missed_call") != 0)
		return cdr_bad(r, "record of type '%.20s', expected a call",
		    type);
	id = json_object_get(o, "call_id");
	if (id == NULL)
		id = json_object_get(o, "id");
	if (json_is_string(id))
		snprintf(r->gkey, sizeof(r->gkey), "js:%s",
		    json_string_value(id));
	else if (json_is_integer(id))
		snprintf(r->gkey, sizeof(r->gkey), "js:%lld",
		    (long long)json_integer_value(id));
	else
		return cdr_bad(r, "no call id (\"id\" or \"call_id\")");
	l->gkey = r->gkey;
	if (jtime(r, l, o, "started_at", "start", &l->start) != 0 ||
	    jtime(r, l, o, "answered_at", "answer", &l->answer) != 0 ||
	    jtime(r, l, o, "ended_at", "end", &l->end) != 0)
		return -1;
	if (l->start < 0)
		return cdr_bad(r, "no started_at");
	l->caller = jstr(o, "caller", "from");
	l->called = jstr(o, "called", "to");
	l->caller_name = jstr(o, "caller_name", NULL);
	l->context = jstr(o, "ddi", "context");
	l->primary = 1;
	if ((s = jstr(o, "direction", NULL)) != NULL) {
		if (strcmp(s, "in") == 0 || strcasecmp(s, "inbound") == 0)
			l->dir = MCR_DIR_IN;
		else if (strcmp(s, "out") == 0 || strcasecmp(s, "outbound") == 0)
			l->dir = MCR_DIR_OUT;
		else if (strcmp(s, "internal") == 0)
			l->dir = MCR_DIR_INTERNAL;
		else
			return cdr_bad(r, "bad direction '%.20s'", s);
	} else if (type != NULL && strcmp(type, "missed_call") == 0)
		l->dir = MCR_DIR_IN;
	out = jstr(o, "outcome", "result");
	if (out != NULL) {
		int i;

		for (i = 0; map[i].name != NULL; i++)
			if (strcmp(out, map[i].name) == 0)
				break;
		if (map[i].name == NULL)
			return cdr_bad(r, "unknown outcome '%.20s'", out);
		l->res = map[i].res;
	} else
		l->res = l->answer >= 0 ? MCR_RES_ANSWERED : MCR_RES_NOANSWER;
	if (l->res == MCR_RES_ANSWERED && l->answer < 0)
		l->answer = l->start;
	if (l->res != MCR_RES_ANSWERED)
		l->answer = -1;
	snprintf(l->detail, sizeof(l->detail), "%s: %s %s", out ? "outcome" :
	    "answered_at", out ? out : l->answer >= 0 ? "set" : "null", "");
	l->detail[strlen(l->detail) - 1] = '\0';
	return 1;
}

int
mcr_cdr_next(struct mcr_cdr *r, struct mcr_leg *l, int final)
{
	char *line;
	size_t len;
	int64_t off;
	int rc;

	for (;;) {
		r->over = 0;
		if (!readline(r, &line, &len, final, &off))
			return 0;
		r->legoff = off;
		if (r->over) {
			fprintf(stderr, "%s: %s:%lld: line longer than %d "
			    "bytes\n", mcr_util_prog(), r->name,
			    (long long)r->line, LINE_MAX_BYTES);
			r->rows++;
			return -1;
		}
		if (len == 0 || strspn(line, " \t") == len)
			continue;
		memset(l, 0, sizeof(*l));
		l->line = r->line;
		l->hint = -1;
		l->answer = l->end = -1;
		l->hash = mcr_util_hash(line, len, (uint64_t)r->fmt);
		switch (r->fmt) {
		case MCR_FMT_QUEUE:
			rc = parse_queue(r, line, l);
			break;
		case MCR_FMT_JSONL:
			rc = parse_jsonl(r, line, l);
			break;
		default:
			split(r, line, len);
			if (r->nf > MAXF) {
				rc = cdr_bad(r, "more than %d fields", MAXF);
				break;
			}
			switch (r->fmt) {
			case MCR_FMT_ASTERISK:
				rc = parse_asterisk(r, l);
				break;
			case MCR_FMT_FREEPBX:
				rc = parse_freepbx(r, l);
				break;
			case MCR_FMT_FREESWITCH:
				rc = parse_freeswitch(r, l);
				break;
			case MCR_FMT_3CX:
				rc = parse_3cx(r, l);
				break;
			case MCR_FMT_TWILIO:
				rc = parse_twilio(r, l);
				break;
			case MCR_FMT_CSV:
				rc = cdr_parse_csv(r, l);
				break;
			default:
				rc = cdr_bad(r, "no reader for this format");
			}
		}
		if (rc == 0 && (r->fmt == MCR_FMT_FREEPBX || r->fmt ==
		    MCR_FMT_TWILIO || r->fmt == MCR_FMT_CSV))
			continue;	/* the header */
		if (rc == 0)
			continue;	/* a line that carries no leg */
		if (rc == -2)
			return -2;
		r->rows++;
		return rc;
	}
}

/* Access for the mapped csv reader (csvmap.c). */
const char *
cdr_field(struct mcr_cdr *r, int i)
{
	return F(r, i);
}

int
cdr_nfields(struct mcr_cdr *r)
{
	return r->nf;
}

int
cdr_when(struct mcr_cdr *r, struct mcr_leg *l, const char *s, int64_t *t,
    const char *what)
{
	return when(r, l, s, t, what);
}

long
cdr_hms(const char *s)
{
	return hms(s);
}

int *
cdr_hdr(struct mcr_cdr *r)
{
	return &r->hdr;
}

int *
cdr_cols(struct mcr_cdr *r)
{
	return r->col;
}

const struct mcr_config *
cdr_config(struct mcr_cdr *r)
{
	return r->cfg;
}

char *
cdr_scratch(struct mcr_cdr *r, int which, size_t *n)
{
	switch (which) {
	case 0:
		*n = sizeof(r->gkey);
		return r->gkey;
	case 1:
		*n = sizeof(r->caller);
		return r->caller;
	case 2:
		*n = sizeof(r->called);
		return r->called;
	default:
		*n = sizeof(r->name_);
		return r->name_;
	}
}

/* Detection from the first line(s) of a file. */
enum mcr_fmt
mcr_cdr_detect(const char *data, size_t n)
{
	struct mcr_cdr r;
	char line[4096], sq[4096];
	const char *nl;
	size_t len;
	enum mcr_fmt f = MCR_FMT_NONE;
	int64_t naive;

	if (n >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		n -= 3;
	}
	while (n > 0 && (*data == '\n' || *data == '\r')) {
		data++;
		n--;
	}
	if (n == 0)
		return MCR_FMT_NONE;
	nl = memchr(data, '\n', n);
	len = nl ? (size_t)(nl - data) : n;
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memcpy(line, data, len);
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (line[0] == '{')
		return MCR_FMT_JSONL;
	{
		size_t d = strspn(line, "0123456789");

		if (d >= 9 && d <= 11 && line[d] == '|')
			return MCR_FMT_QUEUE;
	}
	mcr_util_squash(line, sq, sizeof(sq));
	if (strncmp(sq, "calldate", 8) == 0 && strstr(sq, "disposition"))
		return MCR_FMT_FREEPBX;
	memset(&r, 0, sizeof(r));
	r.delim = ',';
	split(&r, line, len);
	if (r.nf >= 4 && r.nf <= MAXF) {
		int sid = 0, status = 0, from = 0;

		for (int i = 0; i < r.nf; i++) {
			mcr_util_squash(F(&r, i), sq, sizeof(sq));
			sid |= strcmp(sq, "sid") == 0 || strcmp(sq,
			    "callsid") == 0;
			status |= strcmp(sq, "status") == 0;
			from |= strcmp(sq, "from") == 0;
		}
		if (sid && status && from)
			f = MCR_FMT_TWILIO;
	}
	if (f == MCR_FMT_NONE && r.nf >= 27 && r.nf <= 29 &&
	    strncmp(F(&r, 0), "Call ", 5) == 0)
		f = MCR_FMT_3CX;
	else if (f == MCR_FMT_NONE && r.nf >= 16 && r.nf <= 21 &&
	    mcr_time_parse_naive(F(&r, 9), &naive) == 0 && isint(F(&r, 12)) &&
	    isint(F(&r, 13)))
		f = MCR_FMT_ASTERISK;
	else if (f == MCR_FMT_NONE && r.nf >= 13 && r.nf <= 20 &&
	    mcr_time_parse_naive(F(&r, 4), &naive) == 0 && isint(F(&r, 7)) &&
	    isint(F(&r, 8)))
		f = MCR_FMT_FREESWITCH;
	free(r.rec);
	return f;
}
