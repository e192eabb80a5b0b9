/*
 * mock-api: the Meta WhatsApp Cloud API and the Twilio Messages API on
 * loopback, for the tests.
 *
 *	mock-api [-p portfile] [-l logfile] [-c controlfile] [-m modes]
 *	    [-s smtpportfile] [-M maillog]
 *
 * Listens on 127.0.0.1 on a port the kernel picks and writes it to
 * portfile (or stdout).  Every request but GET /health is answered per
 * its mode and logged as one JSON line:
 *
 *	{"n":1,"t_ms":...,"method":"POST","path":"/v21.0/1/messages",
 *	 "query":"","auth":"Bearer tok","content_type":"application/json",
 *	 "to":"+447700900001","body":"...","mode":"ok","status":200}
 *
 * Modes: ok, error:CODE, status:NNN, slow:MS, drop, garbage,
 * retryafter:S.  The list is read from the control file before every
 * request (from -m when the file is missing or empty; else "ok").
 * NUMBER=MODE applies to the requests to NUMBER (the first such rule
 * wins); the plain modes are a sequence: request k since the sequence
 * changed (or the control file was rewritten) uses mode min(k, count-1).
 * A bad token anywhere in the list makes every request a 500 naming it.
 *
 * With -s it speaks SMTP too, on another port the kernel picks, written
 * to smtpportfile (before the HTTP port is written: once that is there,
 * both listen).  EHLO offers AUTH PLAIN LOGIN (any credentials do; no
 * STARTTLS), SIZE 1048576 and 8BITMIME; a message over 1 MiB (by MAIL's
 * SIZE=, or once read) is a 552; at most 100 RCPTs; 30 s idle closes
 * the connection.  Each message accepted is logged to maillog (-M),
 * before its 250, as one JSON line:
 *
 *	{"n":1,"t_ms":...,"from":"a@x","to":["b@y","c@y"],"auth":null,
 *	 "data":"Subject: hi\r\n\r\nbody"}
 *
 * data is as sent, CRLFs kept, dots unstuffed, less the CRLF.CRLF.  The
 * first smtp=MODE of the list sets how MAIL and DATA are answered: ok,
 * reject (554 to MAIL), tempfail (451 to MAIL), drop (close after the
 * dot of DATA, no answer, nothing logged); it is no HTTP mode and takes
 * no place in the sequence.  A bad token in the list is a 451 to MAIL.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#define MAXBODY		(1024 * 1024)	/* request bodies; more is a 413 */
#define MAXCTL		(1024 * 1024)	/* control file */
#define SEPS		" \t\r\n\v\f,"
#define NAP_MS		20		/* slow answers notice a stop */

enum kind {
	M_OK, M_ERROR, M_STATUS, M_SLOW, M_DROP, M_GARBAGE, M_RETRY
};

struct mode {
	enum kind	 kind;
	long		 arg;
};

/* One request: made by the URI callback, freed when MHD is done. */
struct req {
	char	*uri;		/* the raw request target */
	char	*body;
	size_t	 len, cap;
	int	 started, toobig;
};

/* What the handler knows of a complete request. */
struct call {
	const char *method, *path, *query, *auth, *ctype;
	const char *body;
	size_t	 len;
	char	*to;		/* the recipient, or NULL */
	long long tms;
};

struct answer {
	int	 status;	/* 0: drop the connection */
	char	*body;
	const char *ctype;
	long	 retry;		/* Retry-After, or -1 */
	long	 slow;		/* milliseconds to wait first */
};

/* The file the control text came from: a rewrite restarts the sequence. */
struct ident {
	dev_t	 dev;
	ino_t	 ino;
	off_t	 size;
	struct timespec mtim;
};

static const struct metaerr {
	long		 code;
	const char	*title, *details;
} metaerrs[] = {
	{ 100, "Invalid parameter", "The request included one or more "
	    "unsupported or misspelled parameters." },
	{ 190, "Invalid OAuth access token",
	    "Error validating access token: Session has expired." },
	{ 368, "Temporarily blocked for policies violations",
	    "The WhatsApp Business Account associated with the app has been "
	    "restricted or disabled for violating a platform policy." },
	{ 130429, "Rate limit hit",
	    "Cloud API message throughput has been reached." },
	{ 131000, "Something went wrong",
	    "Message failed to send due to an unknown error." },
	{ 131016, "Service unavailable",
	    "A service is temporarily unavailable." },
	{ 131026, "Message undeliverable",
	    "Unable to deliver message: the recipient may not be a WhatsApp "
	    "user or may not have accepted the latest terms." },
	{ 131031, "Account has been locked",
	    "The WhatsApp Business Account has been restricted or disabled." },
	{ 131042, "Business eligibility payment issue",
	    "There was an error related to your payment method." },
	{ 131047, "Re-engagement message",
	    "More than 24 hours have passed since the recipient last replied "
	    "to the sender number." },
	{ 131048, "Spam rate limit hit",
	    "Message failed to send because there are restrictions on how "
	    "many messages can be sent from this phone number." },
	{ 131056, "(Business Account, Consumer Account) pair rate limit hit",
	    "Too many messages sent from the sender phone number to the same "
	    "recipient phone number in a short period of time." },
	{ 132000, "Number of parameters does not match the expected number "
	    "of params", "The number of variable parameter values included "
	    "in the request did not match the number of variable parameters "
	    "defined in the template." },
	{ 132001, "Template name does not exist in the translation",
	    "The template does not exist in the specified language or the "
	    "template has not been approved." },
};

static const struct twerr {
	long		 code;
	const char	*message;
} twerrs[] = {
	{ 20003, "Authenticate" },
	{ 20429, "Too Many Requests" },
	{ 21604, "A 'To' phone number is required." },
	{ 21610, "Attempt to send to unsubscribed recipient" },
	{ 21614, "'To' number is not a valid mobile number" },
	{ 63016, "Failed to send freeform message because you are outside "
	    "the allowed window." },
	{ 63018, "Rate limit exceeded for Channel" },
};

static const char *ctlfile, *modes = "ok";
static FILE *logfp;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long count;		/* logged requests */
static char *seqtext;		/* the sequence the count is for */
static struct ident seqid;
static unsigned long seqk;	/* requests that used the sequence */
static atomic_int stopping;

static void
usage(void)
{
	fprintf(stderr, "usage: mock-api [-p portfile] [-l logfile] "
	    "[-c controlfile] [-m modes]\n"
	    "\t[-s smtpportfile] [-M maillog]\n");
	exit(2);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The length of the valid UTF-8 sequence at s, 0 when there is none. */
static size_t
utf8len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t i, k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	cp = s[0] & (0x7f >> k);
	if (n < k)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

/* A JSON string of any bytes (bad UTF-8 becomes U+FFFD); NULL is null. */
static json_t *
jstr(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	json_t *j;
	char *buf;
	size_t i, k, o;

	if (s == NULL)
		return json_null();
	for (i = 0; i < len; i += k)
		if ((k = utf8len(u + i, len - i)) == 0)
			break;
	if (i == len)
		return json_stringn(s, len);
	if ((buf = malloc(len * 3 + 1)) == NULL)
		return json_string("");
	for (i = o = 0; i < len; i += k) {
		if ((k = utf8len(u + i, len - i)) == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		} else {
			memcpy(buf + o, s + i, k);
			o += k;
		}
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

static json_t *
jcstr(const char *s)
{
	return jstr(s, s != NULL ? strlen(s) : 0);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode n bytes of a form field into dst (n + 1 bytes); the length. */
static size_t
urldecode(char *dst, const char *src, size_t n)
{
	size_t i, o;
	int hi, lo;

	for (i = o = 0; i < n; i++) {
		if (src[i] == '+')
			dst[o++] = ' ';
		else if (src[i] == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)src[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)src[i + 2])) >= 0) {
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			dst[o++] = src[i];
	}
	dst[o] = '\0';
	return o;
}

/* The decoded value of the first field key of a form body, or NULL. */
static char *
formget(const char *body, size_t len, const char *key, size_t *vlen)
{
	const char *p, *end = body + len, *amp, *eq;
	char *name, *val;
	size_t n, klen = strlen(key);

	for (p = body; p != NULL; p = amp < end ? amp + 1 : NULL) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		if ((name = malloc((size_t)(eq - p) + 1)) == NULL)
			return NULL;
		n = urldecode(name, p, (size_t)(eq - p));
		if (n != klen || memcmp(name, key, n) != 0) {
			free(name);
			continue;
		}
		free(name);
		if (eq < amp)
			eq++;
		if ((val = malloc((size_t)(amp - eq) + 1)) == NULL)
			return NULL;
		n = urldecode(val, eq, (size_t)(amp - eq));
		if (vlen != NULL)
			*vlen = n;
		return val;
	}
	return NULL;
}

/* The recipient: "to" of a JSON body, else To of a form, less whatsapp:. */
static char *
recipient(const char *body, size_t len)
{
	json_t *root, *to;
	char *s, *r;

	if ((root = json_loadb(body, len, 0, NULL)) != NULL) {
		to = json_object_get(root, "to");
		s = json_is_string(to) ? strdup(json_string_value(to)) : NULL;
		json_decref(root);
		return s;
	}
	if ((s = formget(body, len, "To", NULL)) == NULL)
		return NULL;
	if (strncmp(s, "whatsapp:", 9) == 0 &&
	    (r = strdup(s + 9)) != NULL) {
		free(s);
		s = r;
	}
	return s;
}

static int
num(const char *s, long lo, long hi, long *v)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 9 || s[n] != '\0')
		return 0;
	*v = strtol(s, NULL, 10);
	return *v >= lo && *v <= hi;
}

static int
parsemode(const char *s, struct mode *m)
{
	m->arg = 0;
	if (strcmp(s, "ok") == 0)
		m->kind = M_OK;
	else if (strcmp(s, "drop") == 0)
		m->kind = M_DROP;
	else if (strcmp(s, "garbage") == 0)
		m->kind = M_GARBAGE;
	else if (strncmp(s, "error:", 6) == 0) {
		m->kind = M_ERROR;
		return num(s + 6, 0, 999999999, &m->arg);
	} else if (strncmp(s, "status:", 7) == 0) {
		m->kind = M_STATUS;
		return num(s + 7, 200, 599, &m->arg);
	} else if (strncmp(s, "slow:", 5) == 0) {
		m->kind = M_SLOW;
		return num(s + 5, 0, 600000, &m->arg);
	} else if (strncmp(s, "retryafter:", 11) == 0) {
		m->kind = M_RETRY;
		return num(s + 11, 0, 999999999, &m->arg);
	} else
		return 0;
	return 1;
}

static int
smtpmodeok(const char *s)
{
	return strcmp(s, "ok") == 0 || strcmp(s, "reject") == 0 ||
	    strcmp(s, "tempfail") == 0 || strcmp(s, "drop") == 0;
}

/* Whether a token (MODE, NUMBER=MODE or smtp=SMTPMODE) is good. */
static int
goodtoken(const char *t)
{
	struct mode m;
	const char *eq = strchr(t, '=');

	if (eq == NULL)
		return parsemode(t, &m);
	if (strncmp(t, "smtp=", 5) == 0)
		return smtpmodeok(t + 5);
	return eq > t && parsemode(eq + 1, &m);
}

/* The control file's text if it has any tokens, else NULL. */
static char *
readctl(struct ident *id)
{
	struct stat st;
	char *buf;
	ssize_t r;
	size_t i, len = 0;
	int fd;

	if (ctlfile == NULL || (fd = open(ctlfile, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || (buf = malloc(MAXCTL + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < MAXCTL && (r = read(fd, buf + len, MAXCTL - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	for (i = 0; i < len; i++)	/* a NUL byte separates tokens */
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	if (buf[strspn(buf, SEPS)] == '\0') {
		free(buf);
		return NULL;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtim = st.st_mtim;
	return buf;
}

static int
sameid(const struct ident *a, const struct ident *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtim.tv_sec == b->mtim.tv_sec &&
	    a->mtim.tv_nsec == b->mtim.tv_nsec;
}

/* The plain tokens joined by spaces: what the sequence count is for. */
static char *
joinseq(const char **plain, size_t nplain)
{
	size_t i, n, len = 0;
	char *seq;

	for (i = 0; i < nplain; i++)
		len += strlen(plain[i]) + 1;
	if ((seq = malloc(len)) == NULL)
		return NULL;
	for (i = len = 0; i < nplain; i++) {
		n = strlen(plain[i]);
		memcpy(seq + len, plain[i], n);
		len += n;
		seq[len++] = ' ';
	}
	seq[len - 1] = '\0';
	return seq;
}

/*
 * The mode token for a request to "to" (may be NULL), under the lock;
 * when the list has a bad token, that token.
 */
static char *
pickmode(const char *to)
{
	struct ident id;
	char *text, *p, *save, *pick = NULL, *seq, **tok = NULL, **t;
	const char *eq, **plain = NULL;
	size_t i, ntok = 0, cap = 0, nplain = 0, idx;

	memset(&id, 0, sizeof(id));
	if ((text = readctl(&id)) == NULL && (text = strdup(modes)) == NULL)
		return NULL;
	for (p = strtok_r(text, SEPS, &save); p != NULL;
	    p = strtok_r(NULL, SEPS, &save)) {
		if (ntok == cap) {
			cap = cap ? cap * 2 : 16;
			if ((t = realloc(tok, cap * sizeof(*tok))) == NULL)
				goto out;
			tok = t;
		}
		tok[ntok++] = p;
	}
	for (i = 0; i < ntok; i++)
		if (!goodtoken(tok[i])) {
			pick = strdup(tok[i]);
			goto out;
		}
	for (i = 0; to != NULL && i < ntok; i++)
		if ((eq = strchr(tok[i], '=')) != NULL &&
		    strncmp(tok[i], "smtp=", 5) != 0 &&
		    (size_t)(eq - tok[i]) == strlen(to) &&
		    memcmp(tok[i], to, strlen(to)) == 0) {
			pick = strdup(eq + 1);
			goto out;
		}

	if ((plain = calloc(ntok + 1, sizeof(*plain))) == NULL)
		goto out;
	for (i = 0; i < ntok; i++)
		if (strchr(tok[i], '=') == NULL)
			plain[nplain++] = tok[i];
	if (nplain == 0)
		plain[nplain++] = "ok";
	if ((seq = joinseq(plain, nplain)) == NULL)
		goto out;
	if (seqtext != NULL && strcmp(seq, seqtext) == 0 &&
	    sameid(&id, &seqid))
		free(seq);
	else {
		free(seqtext);
		seqtext = seq;
		seqid = id;
		seqk = 0;
	}
	idx = seqk < nplain ? seqk : nplain - 1;
	if (seqk < nplain)
		seqk++;
	pick = strdup(plain[idx]);
out:
	free(plain);
	free(tok);
	free(text);
	return pick;
}

static int
ismeta(const char *path)
{
	size_t n = strlen(path);

	return n >= 9 && strcmp(path + n - 9, "/messages") == 0;
}

static int
istwilio(const char *path)
{
	return strncmp(path, "/2010-04-01/", 12) == 0;
}

/* The AccountSid of a Twilio Messages.json path, or NULL. */
static char *
twiliosid(const char *path)
{
	const char *pre = "/2010-04-01/Accounts/", *suf = "/Messages.json";
	const char *sid = path + strlen(pre);
	size_t n;

	if (strncmp(path, pre, strlen(pre)) != 0)
		return NULL;
	n = strcspn(sid, "/");
	if (n == 0 || strcmp(sid + n, suf) != 0)
		return NULL;
	return strndup(sid, n);
}

static void
setjson(struct answer *a, int status, json_t *j)
{
	a->status = status;
	a->ctype = "application/json";
	a->body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
}

static int
metastatus(long code)
{
	switch (code) {
	case 4: case 80007: case 130429: case 131056:
		return 429;
	case 190:
		return 401;
	case 0: case 10: case 200:
		return 403;
	case 1: case 2: case 131000:
		return 500;
	case 131016:
		return 503;
	default:
		return 400;
	}
}

static void
metaerror(struct answer *a, long code, const char *details)
{
	const char *title = "Error";
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(metaerrs) / sizeof(metaerrs[0]); i++)
		if (metaerrs[i].code == code) {
			title = metaerrs[i].title;
			if (details == NULL)
				details = metaerrs[i].details;
		}
	if (details == NULL)
		details = "Error";
	snprintf(msg, sizeof(msg), "(#%ld) %s", code, title);
	setjson(a, metastatus(code), json_pack("{s:{s:s,s:s,s:I,s:{s:s,s:s},"
	    "s:s}}", "error", "message", msg, "type", "OAuthException",
	    "code", (json_int_t)code, "error_data", "messaging_product",
	    "whatsapp", "details", details, "fbtrace_id", "AmockTrace"));
}

static void
twilioerror(struct answer *a, long code, const struct call *c)
{
	const char *msg = "Error";
	char link[128], *buf = NULL;
	json_t *j;
	size_t i;
	int status = code == 20429 ? 429 : code == 20003 ? 401 : 400;

	for (i = 0; i < sizeof(twerrs) / sizeof(twerrs[0]); i++)
		if (twerrs[i].code == code)
			msg = twerrs[i].message;
	if (code == 21211) {
		msg = "The 'To' number is not a valid phone number.";
		if (c->to != NULL && asprintf(&buf, "The 'To' number %s is "
		    "not a valid phone number.", c->to) >= 0)
			msg = buf;
	}
	snprintf(link, sizeof(link), "https://www.twilio.com/docs/errors/%ld",
	    code);
	j = json_pack("{s:I,s:o,s:s,s:i}", "code", (json_int_t)code,
	    "message", jcstr(msg), "more_info", link, "status", status);
	setjson(a, status, j);
	free(buf);
}

static void
metaok(struct answer *a, const struct call *c, long n)
{
	json_t *root, *to;
	const char *s;
	char id[64];

	if ((root = json_loadb(c->body, c->len, 0, NULL)) == NULL) {
		metaerror(a, 100, "The request body is not valid JSON.");
		return;
	}
	to = json_object_get(root, "to");
	if (!json_is_string(to)) {
		json_decref(root);
		metaerror(a, 100, "The parameter to is required.");
		return;
	}
	s = json_string_value(to);
	snprintf(id, sizeof(id), "wamid.MOCK%ld", n);
	setjson(a, 200, json_pack("{s:s,s:[{s:O,s:o}],s:[{s:s}]}",
	    "messaging_product", "whatsapp", "contacts", "input", to,
	    "wa_id", jcstr(s[0] == '+' ? s + 1 : s), "messages", "id", id));
	json_decref(root);
}

static void
twiliook(struct answer *a, const struct call *c, const char *acct, long n)
{
	char *to, *from, *body, *msid, sid[40], *uri = NULL;
	size_t tolen = 0, fromlen = 0, bodylen = 0, msidlen = 0;

	if ((to = formget(c->body, c->len, "To", &tolen)) == NULL) {
		twilioerror(a, 21604, c);
		return;
	}
	from = formget(c->body, c->len, "From", &fromlen);
	body = formget(c->body, c->len, "Body", &bodylen);
	msid = formget(c->body, c->len, "MessagingServiceSid", &msidlen);
	snprintf(sid, sizeof(sid), "SM%032lx", (unsigned long)n);
	if (asprintf(&uri, "/2010-04-01/Accounts/%s/Messages/%s.json", acct,
	    sid) < 0)
		uri = NULL;
	setjson(a, 201, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:n,s:n,"
	    "s:o}", "sid", sid, "status", "queued", "to", jstr(to, tolen),
	    "from", jstr(from, fromlen), "body", jstr(body, bodylen),
	    "messaging_service_sid", jstr(msid, msidlen),
	    "account_sid", jcstr(acct), "num_segments", "1",
	    "error_code", "error_message", "uri", jcstr(uri)));
	free(uri);
	free(msid);
	free(body);
	free(from);
	free(to);
}

static void
answerok(struct answer *a, const struct call *c, long n)
{
	char *acct;

	if (strcmp(c->method, "POST") == 0 && ismeta(c->path))
		metaok(a, c, n);
	else if (strcmp(c->method, "POST") == 0 &&
	    (acct = twiliosid(c->path)) != NULL) {
		twiliook(a, c, acct, n);
		free(acct);
	} else
		setjson(a, 404, json_pack("{s:s}", "error", "not found"));
}

static void
answerhtml(struct answer *a, int status)
{
	a->status = status;
	a->ctype = "text/html";
	if (status == 204 || status == 304) {
		a->body = strdup("");
		return;
	}
	if (asprintf(&a->body, "<html><body><h1>%d %s</h1></body></html>\n",
	    status, MHD_get_reason_phrase_for((unsigned)status)) < 0)
		a->body = NULL;
}

/* The answer for request n in mode token tok. */
static void
answer(struct answer *a, const char *tok, const struct call *c, long n)
{
	struct mode m;
	char *msg;

	if (!parsemode(tok, &m)) {
		if (asprintf(&msg, "mock-api: bad mode token \"%s\"", tok) < 0)
			msg = NULL;
		setjson(a, 500, json_pack("{s:o}", "error", jcstr(msg)));
		free(msg);
		return;
	}
	switch (m.kind) {
	case M_SLOW:
		a->slow = m.arg;
		/* FALLTHROUGH */
	case M_OK:
		answerok(a, c, n);
		break;
	case M_ERROR:
		if (istwilio(c->path))
			twilioerror(a, m.arg, c);
		else
			metaerror(a, m.arg, NULL);
		break;
	case M_STATUS:
		answerhtml(a, (int)m.arg);
		break;
	case M_DROP:
		a->status = 0;
		break;
	case M_GARBAGE:
		a->status = 200;
		a->ctype = "application/json";
		a->body = strdup("{\"messages\":[{\"id\":");
		break;
	case M_RETRY:
		if (istwilio(c->path))
			twilioerror(a, 20429, c);
		else
			metaerror(a, 130429, NULL);
		a->status = 429;
		a->retry = m.arg;
		break;
	}
}

static void
logline(const struct call *c, long n, const char *mode, int status)
{
	json_t *j;
	char *s;

	if (logfp == NULL)
		return;
	j = json_object();
	json_object_set_new(j, "n", json_integer(n));
	json_object_set_new(j, "t_ms", json_integer(c->tms));
	json_object_set_new(j, "method", jcstr(c->method));
	json_object_set_new(j, "path", jcstr(c->path));
	json_object_set_new(j, "query", jcstr(c->query));
	json_object_set_new(j, "auth", jcstr(c->auth));
	json_object_set_new(j, "content_type", jcstr(c->ctype));
	json_object_set_new(j, "to", jcstr(c->to));
	json_object_set_new(j, "body", jstr(c->body, c->len));
	json_object_set_new(j, "mode", jcstr(mode));
	json_object_set_new(j, "status", json_integer(status));
	if ((s = json_dumps(j, JSON_COMPACT)) != NULL) {
		fprintf(logfp, "%s\n", s);
		fflush(logfp);
		free(s);
	}
	json_decref(j);
}

/* Decide, count and log a complete request, all under the lock. */
static void
decide(struct answer *a, struct call *c, const struct req *r)
{
	char *tok = NULL;
	long n;

	pthread_mutex_lock(&lock);
	n = ++count;
	if (r->toobig) {
		setjson(a, 413, json_pack("{s:s}", "error",
		    "request body larger than 1 MiB"));
		c->len = 0;
		c->body = "";
	} else {
		if ((tok = pickmode(c->to)) == NULL)
			tok = strdup("ok");
		answer(a, tok != NULL ? tok : "ok", c, n);
	}
	if (a->status != 0 && a->body == NULL)
		a->status = 500;
	logline(c, n, tok, a->status);
	pthread_mutex_unlock(&lock);
	free(tok);
}

static void
nap(long ms)
{
	struct timespec ts;
	long d;

	while (ms > 0 && !atomic_load(&stopping)) {
		d = ms < NAP_MS ? ms : NAP_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = d * 1000000L;
		nanosleep(&ts, NULL);
		ms -= d;
	}
}

static enum MHD_Result
reply(struct MHD_Connection *conn, int status, const char *ctype,
    const char *body, long retry)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char ra[32];

	resp = MHD_create_response_from_buffer(body != NULL ? strlen(body) : 0,
	    (void *)(body != NULL ? body : ""), MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (ctype != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    ctype);
	if (retry >= 0) {
		snprintf(ra, sizeof(ra), "%ld", retry);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int
takebody(struct req *r, const char *data, size_t n)
{
	size_t cap;
	char *p;

	if (r->toobig)
		return 1;
	if (n > MAXBODY - r->len) {
		r->toobig = 1;
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		return 1;
	}
	if (r->len + n + 1 > r->cap) {
		for (cap = r->cap ? r->cap : 4096; cap < r->len + n + 1; )
			cap *= 2;
		if ((p = realloc(r->body, cap)) == NULL)
			return 0;
		r->body = p;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 1;
}

static void *
onuri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req *r;

	(void)cls;
	(void)conn;
	if ((r = calloc(1, sizeof(*r))) != NULL)
		r->uri = strdup(uri);
	return r;
}

static void
ondone(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r != NULL) {
		free(r->uri);
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *datalen, void **con_cls)
{
	struct answer a = { 0, NULL, NULL, -1, 0 };
	struct call c;
	struct req *r = *con_cls;
	const char *q;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (r == NULL && (r = *con_cls = calloc(1, sizeof(*r))) == NULL)
		return MHD_NO;
	if (!r->started) {
		r->started = 1;
		return MHD_YES;
	}
	if (*datalen != 0) {
		if (!takebody(r, data, *datalen))
			return MHD_NO;
		*datalen = 0;
		return MHD_YES;
	}

	if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
		return reply(conn, 200, "text/plain", "ok", -1);
	memset(&c, 0, sizeof(c));
	c.tms = now_ms();
	c.method = method;
	c.path = url;
	q = r->uri != NULL ? strchr(r->uri, '?') : NULL;
	c.query = q != NULL ? q + 1 : "";
	c.auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	c.ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	c.body = r->body != NULL ? r->body : "";
	c.len = r->len;
	if (!r->toobig)
		c.to = recipient(c.body, c.len);
	decide(&a, &c, r);
	free(c.to);
	nap(a.slow);
	if (a.status == 0) {
		free(a.body);
		return MHD_NO;
	}
	ret = reply(conn, a.status, a.ctype, a.body, a.retry);
	free(a.body);
	return ret;
}

static int
writeport(const char *path, unsigned port)
{
	char *tmp;
	FILE *fp;
	int ok;

	if (path == NULL) {
		printf("%u\n", port);
		return fflush(stdout) == 0;
	}
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return 0;
	if ((fp = fopen(tmp, "w")) == NULL) {
		free(tmp);
		return 0;
	}
	ok = fprintf(fp, "%u\n", port) > 0;
	ok = fclose(fp) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok;
}

/*
 * SMTP (-s): one thread accepting, one a connection.  The connections
 * are on a list so that a stop can shut their sockets down and join
 * them; a connection closes its own socket, under the list lock, and
 * the accepting thread joins those that are done.
 */
#define SMTP_MAXMSG	(1024 * 1024)	/* DATA, unstuffed; more is a 552 */
#define SMTP_MAXCMD	(16 * 1024)	/* a command line */
#define SMTP_MAXRCPT	100
#define SMTP_IDLE_S	30

enum smode { S_OK, S_REJECT, S_TEMPFAIL, S_DROP, S_BAD };

struct sconn {
	struct sconn	*next;
	pthread_t	 th;
	int		 fd;		/* -1 once closed; under slock */
	atomic_int	 done;
	char		 in[8192];	/* received, not yet a line */
	size_t		 ib, ie;
	char		*line;		/* the last line, with its end */
	size_t		 llen, lcap;
	int		 toolong, timedout;
	char		*user;		/* authenticated as, or NULL */
	size_t		 userlen;
	char		*from;		/* the transaction, or NULL */
	char		*rcpt[SMTP_MAXRCPT];
	size_t		 nrcpt;
	enum smode	 mode;
	char		*data;
	size_t		 dlen, dcap;
};

static FILE *mailfp;
static pthread_mutex_t maillock = PTHREAD_MUTEX_INITIALIZER;
static long mailcount;			/* messages accepted */
static pthread_mutex_t slock = PTHREAD_MUTEX_INITIALIZER;
static struct sconn *sconns;		/* under slock */
static int slisten = -1, swake[2] = { -1, -1 };
static pthread_t sacceptth;
static int saccepting;			/* sacceptth runs */

/*
 * The SMTP mode: the first smtp=MODE of the list, else ok; S_BAD with
 * the token in *bad when the list has a bad token.
 */
static enum smode
smtpmode(char **bad)
{
	struct ident id;
	char *text, *p, *save, *pick = NULL;
	enum smode m = S_OK;

	*bad = NULL;
	if ((text = readctl(&id)) == NULL && (text = strdup(modes)) == NULL)
		return S_OK;
	for (p = strtok_r(text, SEPS, &save); p != NULL;
	    p = strtok_r(NULL, SEPS, &save)) {
		if (!goodtoken(p)) {
			*bad = strdup(p);
			free(text);
			return S_BAD;
		}
		if (pick == NULL && strncmp(p, "smtp=", 5) == 0)
			pick = p + 5;
	}
	if (pick == NULL || strcmp(pick, "ok") == 0)
		m = S_OK;
	else if (strcmp(pick, "reject") == 0)
		m = S_REJECT;
	else if (strcmp(pick, "tempfail") == 0)
		m = S_TEMPFAIL;
	else
		m = S_DROP;
	free(text);
	return m;
}

static int
sreply(struct sconn *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	size_t len, off;
	ssize_t w;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	len = (size_t)n < sizeof(buf) - 2 ? (size_t)n : sizeof(buf) - 3;
	buf[len++] = '\r';
	buf[len++] = '\n';
	for (off = 0; off < len; off += (size_t)w)
		if ((w = send(c->fd, buf + off, len - off, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			return 0;
		}
	return 1;
}

/*
 * The next line, its end (LF, or CRLF) included, into c->line; a line
 * over max bytes sets c->toolong and keeps only its start.  0 at the
 * end of the input, an error or the idle timeout (c->timedout).
 */
static int
sreadline(struct sconn *c, size_t max)
{
	char *lf, *p;
	size_t n, cap;
	ssize_t r;

	c->llen = 0;
	c->toolong = 0;
	for (;;) {
		if (c->ib == c->ie) {
			c->ib = c->ie = 0;
			r = recv(c->fd, c->in, sizeof(c->in), 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				c->timedout = 1;
			if (r <= 0)
				return 0;
			c->ie = (size_t)r;
		}
		lf = memchr(c->in + c->ib, '\n', c->ie - c->ib);
		n = lf != NULL ? (size_t)(lf - (c->in + c->ib)) + 1 :
		    c->ie - c->ib;
		if (c->toolong || n > max - c->llen)
			c->toolong = 1;
		else {
			if (c->llen + n + 1 > c->lcap) {
				for (cap = c->lcap ? c->lcap : 1024;
				    cap < c->llen + n + 1; )
					cap *= 2;
				if ((p = realloc(c->line, cap)) == NULL)
					return 0;
				c->line = p;
				c->lcap = cap;
			}
			memcpy(c->line + c->llen, c->in + c->ib, n);
			c->llen += n;
			c->line[c->llen] = '\0';
		}
		c->ib += n;
		if (lf != NULL)
			return 1;
	}
}

static void
sreset(struct sconn *c)
{
	size_t i;

	free(c->from);
	c->from = NULL;
	for (i = 0; i < c->nrcpt; i++)
		free(c->rcpt[i]);
	c->nrcpt = 0;
	free(c->data);
	c->data = NULL;
	c->dlen = c->dcap = 0;
	c->mode = S_OK;
}

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Base64 s decoded, NUL-terminated, its length in *len; NULL if bad. */
static char *
b64dec(const char *s, size_t *len)
{
	size_t i, n = strlen(s), o = 0, pad = 0;
	unsigned long acc = 0;
	char *out;
	int v, bits = 0;

	if (n % 4 != 0 || (out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad != 0 || (v = b64val((unsigned char)s[i])) < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (unsigned long)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

/* The next line as a command: its end cut; NULL at the end. */
static char *
scmdline(struct sconn *c)
{
	for (;;) {
		if (!sreadline(c, SMTP_MAXCMD))
			return NULL;
		if (!c->toolong)
			break;
		if (!sreply(c, "500 line too long"))
			return NULL;
	}
	if (c->llen > 0 && c->line[c->llen - 1] == '\n')
		c->line[--c->llen] = '\0';
	if (c->llen > 0 && c->line[c->llen - 1] == '\r')
		c->line[--c->llen] = '\0';
	return c->line;
}

/* A SASL response line: decoded, or NULL (the reply sent, in *ok). */
static char *
sasl(struct sconn *c, const char *prompt, size_t *len, int *ok)
{
	char *l, *s;

	*ok = 0;
	if (prompt != NULL && !sreply(c, "334 %s", prompt))
		return NULL;
	if ((l = scmdline(c)) == NULL)
		return NULL;
	if (strcmp(l, "*") == 0) {
		*ok = sreply(c, "501 authentication cancelled");
		return NULL;
	}
	if ((s = b64dec(l, len)) == NULL)
		*ok = sreply(c, "501 bad base64");
	return s;
}

/* AUTH arg: 0 when the connection is to end. */
static int
sauth(struct sconn *c, char *arg)
{
	char *mech = arg, *ir, *s, *pw, *u, *p;
	size_t len, ulen;
	int ok;

	if (c->user != NULL || c->from != NULL)
		return sreply(c, "503 bad sequence of commands");
	ir = mech + strcspn(mech, " ");
	if (*ir != '\0')
		*ir++ = '\0';
	ir += strspn(ir, " ");
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (*ir != '\0') {
			if ((s = b64dec(ir, &len)) == NULL)
				return sreply(c, "501 bad base64");
		} else if ((s = sasl(c, "", &len, &ok)) == NULL)
			return ok;
		/* authzid NUL authcid NUL passwd */
		if ((u = memchr(s, '\0', len)) == NULL ||
		    (pw = memchr(u + 1, '\0', len - (size_t)(u + 1 - s))) ==
		    NULL) {
			free(s);
			return sreply(c, "501 bad PLAIN response");
		}
		u++;
		ulen = (size_t)(pw - u);
		if ((p = malloc(ulen + 1)) != NULL) {
			memcpy(p, u, ulen);
			p[ulen] = '\0';
		}
		free(s);
		u = p;
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		if (*ir != '\0') {
			if ((u = b64dec(ir, &ulen)) == NULL)
				return sreply(c, "501 bad base64");
		} else if ((u = sasl(c, "VXNlcm5hbWU6", &ulen, &ok)) == NULL)
			return ok;
		if ((pw = sasl(c, "UGFzc3dvcmQ6", &len, &ok)) == NULL) {
			free(u);
			return ok;
		}
		free(pw);
	} else
		return sreply(c, "504 unrecognized authentication type");
	if (u == NULL)
		return sreply(c, "451 out of memory");
	c->user = u;
	c->userlen = ulen;
	return sreply(c, "235 authentication succeeded");
}

/*
 * The address of "FROM:<addr> params" (what is "FROM:"), or NULL; the
 * parameters in *rest.
 */
static char *
saddr(char *arg, const char *what, char **rest)
{
	size_t n = strlen(what), len;
	char *p, *e;

	if (strncasecmp(arg, what, n) != 0)
		return NULL;
	p = arg + n;
	p += strspn(p, " ");
	if (*p == '<') {
		if ((e = strchr(++p, '>')) == NULL)
			return NULL;
		len = (size_t)(e - p);
		e++;
	} else {
		len = strcspn(p, " ");
		if (len == 0)
			return NULL;
		e = p + len;
	}
	if (*e != '\0' && *e != ' ')
		return NULL;
	*rest = e;
	return strndup(p, len);
}

/* Whether MAIL's parameters declare a SIZE over the limit. */
static int
stoobig(char *rest)
{
	char *p, *save;

	for (p = strtok_r(rest, " ", &save); p != NULL;
	    p = strtok_r(NULL, " ", &save))
		if (strncasecmp(p, "SIZE=", 5) == 0 &&
		    strspn(p + 5, "0123456789") == strlen(p + 5) &&
		    (strlen(p + 5) > 9 || atol(p + 5) > SMTP_MAXMSG))
			return 1;
	return 0;
}

static int
smail(struct sconn *c, char *arg)
{
	char *addr, *rest, *bad;
	enum smode m;
	int ok;

	if (c->from != NULL)
		return sreply(c, "503 bad sequence of commands");
	if ((addr = saddr(arg, "FROM:", &rest)) == NULL)
		return sreply(c, "501 syntax: MAIL FROM:<address>");
	m = smtpmode(&bad);
	if (m == S_BAD) {
		ok = sreply(c, "451 mock: bad mode token \"%s\"",
		    bad != NULL ? bad : "?");
		free(bad);
	} else if (m == S_REJECT)
		ok = sreply(c, "554 transaction failed");
	else if (m == S_TEMPFAIL)
		ok = sreply(c, "451 temporary failure, try again later");
	else if (stoobig(rest))
		ok = sreply(c, "552 message size exceeds fixed maximum "
		    "message size");
	else {
		c->from = addr;
		c->mode = m;
		return sreply(c, "250 ok");
	}
	free(addr);
	return ok;
}

static int
srcpt(struct sconn *c, char *arg)
{
	char *addr, *rest;

	if (c->from == NULL)
		return sreply(c, "503 bad sequence of commands");
	if ((addr = saddr(arg, "TO:", &rest)) == NULL || *addr == '\0') {
		free(addr);
		return sreply(c, "501 syntax: RCPT TO:<address>");
	}
	if (c->nrcpt == SMTP_MAXRCPT) {
		free(addr);
		return sreply(c, "452 too many recipients");
	}
	c->rcpt[c->nrcpt++] = addr;
	return sreply(c, "250 ok");
}

/* Log the message of the transaction; its number. */
static long
slog(struct sconn *c)
{
	json_t *j, *to;
	char *s;
	size_t i;
	long n;

	pthread_mutex_lock(&maillock);
	n = ++mailcount;
	if (mailfp != NULL) {
		to = json_array();
		for (i = 0; i < c->nrcpt; i++)
			json_array_append_new(to, jcstr(c->rcpt[i]));
		j = json_object();
		json_object_set_new(j, "n", json_integer(n));
		json_object_set_new(j, "t_ms", json_integer(now_ms()));
		json_object_set_new(j, "from", jcstr(c->from));
		json_object_set_new(j, "to", to);
		json_object_set_new(j, "auth", c->user != NULL ?
		    jstr(c->user, c->userlen) : json_null());
		json_object_set_new(j, "data", jstr(c->data != NULL ?
		    c->data : "", c->dlen));
		if ((s = json_dumps(j, JSON_COMPACT)) != NULL) {
			fprintf(mailfp, "%s\n", s);
			fflush(mailfp);
			free(s);
		}
		json_decref(j);
	}
	pthread_mutex_unlock(&maillock);
	return n;
}

/* DATA: 0 when the connection is to end. */
static int
sdata(struct sconn *c)
{
	const char *l;
	size_t n, cap;
	char *p;
	long id;
	int big = 0;

	if (c->from == NULL || c->nrcpt == 0)
		return sreply(c, "503 bad sequence of commands");
	if (!sreply(c, "354 end data with <CR><LF>.<CR><LF>"))
		return 0;
	for (;;) {
		if (!sreadline(c, SMTP_MAXMSG + 3))
			return 0;
		l = c->line;
		n = c->llen;
		if (!c->toolong && (strcmp(l, ".\r\n") == 0 ||
		    strcmp(l, ".\n") == 0))
			break;
		if (big || c->toolong) {
			big = 1;
			continue;
		}
		if (l[0] == '.') {
			l++;
			n--;
		}
		if (n > SMTP_MAXMSG + 2 - c->dlen) {
			big = 1;
			continue;
		}
		if (c->dlen + n + 1 > c->dcap) {
			for (cap = c->dcap ? c->dcap : 4096;
			    cap < c->dlen + n + 1; )
				cap *= 2;
			if ((p = realloc(c->data, cap)) == NULL)
				return 0;
			c->data = p;
			c->dcap = cap;
		}
		memcpy(c->data + c->dlen, l, n);
		c->dlen += n;
	}
	/* the CRLF of CRLF.CRLF */
	if (c->dlen > 0 && c->data[c->dlen - 1] == '\n')
		c->dlen--;
	if (c->dlen > 0 && c->data[c->dlen - 1] == '\r')
		c->dlen--;
	if (c->dlen > SMTP_MAXMSG)
		big = 1;
	if (c->mode == S_DROP)
		return 0;
	if (big) {
		sreset(c);
		return sreply(c, "552 message exceeds fixed maximum message "
		    "size");
	}
	id = slog(c);
	sreset(c);
	return sreply(c, "250 ok: queued as %ld", id);
}

static void
session(struct sconn *c)
{
	char *l, *arg;
	size_t n;
	int ok = 1;

	if (!sreply(c, "220 mock ESMTP"))
		return;
	while (ok && (l = scmdline(c)) != NULL) {
		n = strcspn(l, " ");
		arg = l + n;
		if (*arg != '\0')
			*arg++ = '\0';
		if (strcasecmp(l, "EHLO") == 0) {
			sreset(c);
			ok = sreply(c, "250-mock\r\n250-AUTH PLAIN LOGIN\r\n"
			    "250-SIZE %d\r\n250 8BITMIME", SMTP_MAXMSG);
		} else if (strcasecmp(l, "HELO") == 0) {
			sreset(c);
			ok = sreply(c, "250 mock");
		} else if (strcasecmp(l, "MAIL") == 0)
			ok = smail(c, arg);
		else if (strcasecmp(l, "RCPT") == 0)
			ok = srcpt(c, arg);
		else if (strcasecmp(l, "DATA") == 0)
			ok = sdata(c);
		else if (strcasecmp(l, "AUTH") == 0)
			ok = sauth(c, arg);
		else if (strcasecmp(l, "RSET") == 0) {
			sreset(c);
			ok = sreply(c, "250 ok");
		} else if (strcasecmp(l, "NOOP") == 0)
			ok = sreply(c, "250 ok");
		else if (strcasecmp(l, "QUIT") == 0) {
			sreply(c, "221 bye");
			return;
		} else
			ok = sreply(c, "500 unknown command");
	}
	if (c->timedout)
		sreply(c, "421 idle for too long, closing");
}

static void *
sconnmain(void *arg)
{
	struct sconn *c = arg;

	session(c);
	sreset(c);
	free(c->user);
	c->user = NULL;
	free(c->line);
	c->line = NULL;
	pthread_mutex_lock(&slock);
	close(c->fd);
	c->fd = -1;
	pthread_mutex_unlock(&slock);
	atomic_store(&c->done, 1);
	return NULL;
}

/* Join and free the connections that are done (all of them: the rest). */
static void
sreap(int all)
{
	struct sconn **pp, *c, *dead = NULL;

	pthread_mutex_lock(&slock);
	for (pp = &sconns; (c = *pp) != NULL; ) {
		if (all || atomic_load(&c->done)) {
			*pp = c->next;
			c->next = dead;
			dead = c;
		} else
			pp = &c->next;
	}
	pthread_mutex_unlock(&slock);
	while ((c = dead) != NULL) {
		dead = c->next;
		pthread_join(c->th, NULL);
		free(c);
	}
}

static void *
sacceptmain(void *arg)
{
	struct pollfd pfd[2];
	struct timeval tv = { SMTP_IDLE_S, 0 };
	struct sconn *c;
	int fd;

	(void)arg;
	pfd[0].fd = slisten;
	pfd[0].events = POLLIN;
	pfd[1].fd = swake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if ((pfd[0].revents & POLLIN) == 0)
			continue;
		if ((fd = accept4(slisten, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		sreap(0);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		pthread_mutex_lock(&slock);
		if (pthread_create(&c->th, NULL, sconnmain, c) != 0) {
			pthread_mutex_unlock(&slock);
			close(fd);
			free(c);
			continue;
		}
		c->next = sconns;
		sconns = c;
		pthread_mutex_unlock(&slock);
	}
	return NULL;
}

/* Stop accepting, shut the connections down and join them. */
static void
smtpstop(void)
{
	struct sconn *c;

	if (saccepting) {
		while (write(swake[1], "x", 1) < 0 && errno == EINTR)
			continue;
		pthread_join(sacceptth, NULL);
		saccepting = 0;
	}
	pthread_mutex_lock(&slock);
	for (c = sconns; c != NULL; c = c->next)
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&slock);
	sreap(1);
	if (slisten >= 0)
		close(slisten);
	if (swake[0] >= 0)
		close(swake[0]);
	if (swake[1] >= 0)
		close(swake[1]);
	slisten = swake[0] = swake[1] = -1;
}

/* Listen for SMTP on 127.0.0.1 and write the port to portfile. */
static int
smtpstart(const char *portfile)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = 0;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((slisten = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(slisten, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(slisten, 64) < 0 ||
	    getsockname(slisten, (struct sockaddr *)&sin, &sl) < 0 ||
	    pipe2(swake, O_CLOEXEC) < 0) {
		fprintf(stderr, "mock-api: cannot listen for SMTP: %s\n",
		    strerror(errno));
		smtpstop();
		return 0;
	}
	if (pthread_create(&sacceptth, NULL, sacceptmain, NULL) != 0) {
		fprintf(stderr, "mock-api: cannot start the SMTP thread\n");
		smtpstop();
		return 0;
	}
	saccepting = 1;
	if (!writeport(portfile, ntohs(sin.sin_port))) {
		fprintf(stderr, "mock-api: cannot write the SMTP port file\n");
		smtpstop();
		return 0;
	}
	return 1;
}

static struct MHD_Daemon *
start(void)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = 0;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_URI_LOG_CALLBACK, onuri, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, ondone, NULL,
	    MHD_OPTION_END);
}

/* Check the -m list up front: a typo there is a usage error. */
static void
checkmodes(const char *list)
{
	char *text, *p, *save;

	if ((text = strdup(list)) == NULL)
		exit(1);
	for (p = strtok_r(text, SEPS, &save); p != NULL;
	    p = strtok_r(NULL, SEPS, &save))
		if (!goodtoken(p)) {
			fprintf(stderr, "mock-api: bad mode token \"%s\"\n", p);
			free(text);
			exit(2);
		}
	free(text);
}

int
main(int argc, char *argv[])
{
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	const char *portfile = NULL, *logfile = NULL, *smtpfile = NULL;
	const char *mailfile = NULL;
	sigset_t set;
	int ch, fd, sig;

	while ((ch = getopt(argc, argv, "c:l:m:p:s:M:")) != -1) {
		switch (ch) {
		case 'M':
			mailfile = optarg;
			break;
		case 's':
			smtpfile = optarg;
			break;
		case 'c':
			ctlfile = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'm':
			modes = optarg;
			break;
		case 'p':
			portfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	checkmodes(modes);
	if (logfile != NULL && ((fd = open(logfile, O_WRONLY | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0644)) < 0 ||
	    (logfp = fdopen(fd, "a")) == NULL)) {
		fprintf(stderr, "mock-api: %s: %s\n", logfile, strerror(errno));
		return 1;
	}
	if (mailfile != NULL && ((fd = open(mailfile, O_WRONLY | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0644)) < 0 ||
	    (mailfp = fdopen(fd, "a")) == NULL)) {
		fprintf(stderr, "mock-api: %s: %s\n", mailfile,
		    strerror(errno));
		return 1;
	}

	json_object_seed(0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((d = start()) == NULL ||
	    (info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)) == NULL) {
		fprintf(stderr, "mock-api: cannot listen on 127.0.0.1\n");
		goto fail;
	}
	if (smtpfile != NULL && !smtpstart(smtpfile))
		goto fail;
	if (!writeport(portfile, info->port)) {
		fprintf(stderr, "mock-api: cannot write the port file\n");
		goto fail;
	}
	while (sigwait(&set, &sig) != 0)
		continue;
	atomic_store(&stopping, 1);
	MHD_stop_daemon(d);
	smtpstop();
	if (logfp != NULL)
		fclose(logfp);
	if (mailfp != NULL)
		fclose(mailfp);
	free(seqtext);
	return 0;
fail:
	if (d != NULL)
		MHD_stop_daemon(d);
	smtpstop();
	return 1;
}
