/*
 * mock-api: the Meta WhatsApp Cloud API and the Twilio Messages API on
 * loopback, for the tests.
 *
 *	mock-api [-p portfile] [-l logfile] [-c controlfile] [-m modes]
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
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	    "[-c controlfile] [-m modes]\n");
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

/* Whether a token (MODE or NUMBER=MODE) is good. */
static int
goodtoken(const char *t)
{
	struct mode m;
	const char *eq = strchr(t, '=');

	if (eq == NULL)
		return parsemode(t, &m);
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
	const char *portfile = NULL, *logfile = NULL;
	sigset_t set;
	int ch, fd, sig;

	while ((ch = getopt(argc, argv, "c:l:m:p:")) != -1) {
		switch (ch) {
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

	json_object_seed(0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((d = start()) == NULL ||
	    (info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)) == NULL ||
	    !writeport(portfile, info->port)) {
		fprintf(stderr, "mock-api: cannot %s\n", d == NULL ?
		    "listen on 127.0.0.1" : "write the port file");
		if (d != NULL)
			MHD_stop_daemon(d);
		return 1;
	}
	while (sigwait(&set, &sig) != 0)
		continue;
	atomic_store(&stopping, 1);
	MHD_stop_daemon(d);
	if (logfp != NULL)
		fclose(logfp);
	free(seqtext);
	return 0;
}
