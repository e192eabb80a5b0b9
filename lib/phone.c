/* Phone numbers: withheld markers, extensions, a cache over libphonenumber. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcr.h"

/*
 * An open-addressing cache of libphonenumber's answers, keyed by two
 * hashes of the raw string and the region (the chance of two numbers
 * sharing both is about 2^-96): 40 bytes an entry, grown as needed up to
 * CACHE_MAX slots, then emptied, so memory stays bounded whatever the
 * number of distinct callers.
 */
#define CACHE_MAX	(1 << 17)

struct entry {
	uint64_t h;		/* 0: empty */
	uint32_t h2;
	char	 country[2];
	unsigned char type, foreign;
	uint64_t digits;	/* the E.164 digits, and their count << 56 */
};

static struct entry *cache;
static size_t ncache, capcache;
static long nparse;
/* the reader thread and the storing thread share the cache */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static const char *withheld[] = {
	"anonymous", "restricted", "private", "withheld", "unknown",
	"unavailable", "blocked", "unknown caller", "number withheld",
	"not available", "n/a", "none", "-", "0", "00", "266696687",
	"anonymous@anonymous.invalid", NULL
};

static int
iswithheld(const char *s)
{
	char low[40];
	size_t n = 0;

	while (*s == ' ' || *s == '"')
		s++;
	for (; *s && n < sizeof(low) - 1; s++)
		low[n++] = (char)tolower((unsigned char)*s);
	while (n > 0 && (low[n - 1] == ' ' || low[n - 1] == '"'))
		n--;
	low[n] = '\0';
	if (n == 0)
		return 1;
	for (int i = 0; withheld[i] != NULL; i++)
		if (strcmp(low, withheld[i]) == 0)
			return 1;
	return strncmp(low, "anonymous", 9) == 0;
}

const char *
mcr_phone_typename(enum mcr_ltype t)
{
	switch (t) {
	case MCR_LT_MOBILE:
		return "mobile";
	case MCR_LT_FIXED:
		return "fixed";
	case MCR_LT_VOIP:
		return "voip";
	case MCR_LT_WITHHELD:
		return "withheld";
	case MCR_LT_INVALID:
		return "invalid";
	case MCR_LT_INTERNAL:
		return "internal";
	default:
		return "other";
	}
}

/* Strip "sip:", "tel:", "whatsapp:", "@host", "Ext." and spacing. */
static void
clean(const char *raw, char *out, size_t size)
{
	const char *s = raw, *at;
	size_t n = 0, len;

	const char *lt, *gt;

	/* "Name <number>", as some exports write the caller */
	if ((lt = strrchr(raw, '<')) != NULL && (gt = strchr(lt, '>')) != NULL &&
	    gt > lt + 1) {
		char inner[64];

		snprintf(inner, sizeof(inner), "%.*s", (int)(gt - lt - 1),
		    lt + 1);
		clean(inner, out, size);
		return;
	}
	while (*s == ' ' || *s == '"')
		s++;
	if (strncasecmp(s, "sip:", 4) == 0 || strncasecmp(s, "tel:", 4) == 0)
		s += 4;
	else if (strncasecmp(s, "sips:", 5) == 0)
		s += 5;
	else if (strncasecmp(s, "whatsapp:", 9) == 0)
		s += 9;
	else if (strncasecmp(s, "ext.", 4) == 0)
		s += 4;
	len = (at = strchr(s, '@')) != NULL ? (size_t)(at - s) : strlen(s);
	for (size_t i = 0; i < len && n < size - 1; i++) {
		char c = s[i];

		if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' ||
		    c == '"')
			continue;
		out[n++] = c;
	}
	out[n] = '\0';
}

static void
parse(const char *raw, const char *region, int extd, struct mcr_number *r)
{
	char c[64];
	size_t n, i;
	int type, valid, foreign;

	memset(r, 0, sizeof(*r));
	if (iswithheld(raw)) {
		r->type = MCR_LT_WITHHELD;
		return;
	}
	clean(raw, c, sizeof(c));
	if (iswithheld(c)) {		/* "Name <anonymous>" */
		r->type = MCR_LT_WITHHELD;
		return;
	}
	n = strlen(c);
	for (i = 0; i < n && isdigit((unsigned char)c[i]); i++)
		;
	if (n > 0 && i == n && (int)n <= extd) {
		r->type = MCR_LT_INTERNAL;
		mcr_strlcpy(r->ext, c, sizeof(r->ext));
		return;
	}
	if (n == 0 || strspn(c, "+0123456789*#") != n) {
		r->type = MCR_LT_INVALID;
		return;
	}
	nparse++;
	if (mcr_pn_parse(c, region, r->e164, sizeof(r->e164), r->country,
	    &type, &valid, &foreign) == -1 || !valid) {
		r->e164[0] = '\0';
		r->country[0] = '\0';
		r->type = MCR_LT_INVALID;
		return;
	}
	r->type = (enum mcr_ltype)type;
	r->foreign = foreign;
}

/* "+447400123456" in 64 bits: up to 15 digits, and how many there are. */
static uint64_t
pack(const char *e164)
{
	uint64_t v = 0, n = 0;

	if (*e164 == '+')
		e164++;
	for (; *e164 >= '0' && *e164 <= '9' && n < 15; e164++, n++)
		v = v * 10 + (uint64_t)(*e164 - '0');
	return v | n << 56;
}

static void
unpack(uint64_t p, char out[20])
{
	int n = (int)(p >> 56);
	uint64_t v = p & ((1ULL << 56) - 1);

	if (n == 0) {
		out[0] = '\0';
		return;
	}
	out[0] = '+';
	out[n + 1] = '\0';
	for (int i = n; i >= 1; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
}

static struct entry *
slot(uint64_t h, uint32_t h2)
{
	size_t i = (size_t)h & (capcache - 1);

	while (cache[i].h != 0 && (cache[i].h != h || cache[i].h2 != h2))
		i = (i + 1) & (capcache - 1);
	return &cache[i];
}

static void
cache_grow(void)
{
	struct entry *old = cache;
	size_t ocap = capcache;

	capcache = ocap ? ocap * 2 : 4096;
	cache = mcr_xcalloc(capcache, sizeof(*cache));
	for (size_t i = 0; i < ocap; i++)
		if (old[i].h != 0)
			*slot(old[i].h, old[i].h2) = old[i];
	free(old);
}

static void norm(const char *, const char *, int, struct mcr_number *);

void
mcr_phone_norm(const char *raw, const char *region, int extd,
    struct mcr_number *r)
{
	pthread_mutex_lock(&mu);
	norm(raw, region, extd, r);
	pthread_mutex_unlock(&mu);
}

static void
norm(const char *raw, const char *region, int extd, struct mcr_number *r)
{
	size_t len = strlen(raw);
	uint64_t seed = (uint64_t)region[0] << 8 | (uint64_t)region[1] |
	    (uint64_t)extd << 16, h;
	uint32_t h2;
	struct entry *e;

	/* extensions are cheap: never cached (withheld markers are) */
	if (len == 0 || len > 60 ||
	    ((int)len <= extd && strspn(raw, "0123456789") == len)) {
		parse(raw, region, extd, r);
		return;
	}
	h = mcr_util_hash(raw, len, seed) | 1;
	h2 = (uint32_t)mcr_util_hash(raw, len, ~seed);
	if (cache != NULL) {
		e = slot(h, h2);
		if (e->h != 0) {
			memset(r, 0, sizeof(*r));
			unpack(e->digits, r->e164);
			memcpy(r->country, e->country, sizeof(e->country));
			r->type = (enum mcr_ltype)e->type;
			r->foreign = e->foreign;
			if (r->type == MCR_LT_INTERNAL)
				parse(raw, region, extd, r);
			return;
		}
	}
	parse(raw, region, extd, r);
	if (strlen(r->e164) > 16)
		return;		/* more digits than an entry packs */
	if (ncache + 1 > capcache * 7 / 10) {
		if (capcache >= CACHE_MAX) {
			free(cache);
			cache = NULL;
			ncache = capcache = 0;
		}
		cache_grow();
	}
	e = slot(h, h2);
	e->h = h;
	e->h2 = h2;
	e->digits = pack(r->e164);
	memcpy(e->country, r->country, sizeof(e->country));
	e->type = (unsigned char)r->type;
	e->foreign = (unsigned char)r->foreign;
	ncache++;
}

void
mcr_phone_reset(void)
{
	pthread_mutex_lock(&mu);
	free(cache);
	cache = NULL;
	ncache = capcache = 0;
	pthread_mutex_unlock(&mu);
}

long
mcr_phone_parses(void)
{
	return nparse;
}

char *
mcr_phone_mask(const char *e164, char *buf, size_t size)
{
	size_t n;

	if (e164 == NULL || *e164 == '\0') {
		mcr_strlcpy(buf, "(none)", size);
		return buf;
	}
	n = strlen(e164);
	if (e164[0] != '+' || n < 8) {
		mcr_strlcpy(buf, "***", size);
		return buf;
	}
	/* +44 7*** ***123: country code, first digit, last three */
	if (strncmp(e164, "+1", 2) == 0)
		snprintf(buf, size, "+1 %c** ***%s", e164[2], e164 + n - 3);
	else
		snprintf(buf, size, "%.3s %c*** ***%s", e164, e164[3],
		    e164 + n - 3);
	return buf;
}

struct mcr_nlists {
	struct mcr_list l[3];		/* staff, own, blocklisted */
};

static void
nl_add(struct mcr_list *l, const struct mcr_config *cfg, const char *raw)
{
	struct mcr_number num;

	mcr_phone_norm(raw, cfg->region, cfg->ext_digits, &num);
	l->v = mcr_xrealloc(l->v, (size_t)(l->n + 1) * sizeof(char *));
	l->v[l->n++] = mcr_xstrdup(num.e164[0] ? num.e164 : raw);
}

struct mcr_nlists *
mcr_nlists_new(const struct mcr_config *cfg)
{
	struct mcr_nlists *nl = mcr_xcalloc(1, sizeof(*nl));
	char line[256];
	FILE *fp;

	for (int i = 0; i < cfg->staff.n; i++)
		nl_add(&nl->l[0], cfg, cfg->staff.v[i]);
	for (int i = 0; i < cfg->own.n; i++)
		nl_add(&nl->l[1], cfg, cfg->own.v[i]);
	if (cfg->blocklist == NULL)
		return nl;
	if ((fp = fopen(cfg->blocklist, "r")) == NULL) {
		mcr_warn("%s: %s (blocklist not applied)", cfg->blocklist,
		    strerror(errno));
		return nl;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line + strspn(line, " \t");

		p[strcspn(p, "#;\r\n")] = '\0';
		for (char *e = p + strlen(p); e > p && (e[-1] == ' ' ||
		    e[-1] == '\t');)
			*--e = '\0';
		if (*p != '\0')
			nl_add(&nl->l[2], cfg, p);
	}
	fclose(fp);
	return nl;
}

const char *
mcr_nlists_check(const struct mcr_nlists *nl, const char *e164)
{
	static const char *why[3] = { "staff", "own", "blocklisted" };

	if (e164 == NULL || *e164 == '\0')
		return NULL;
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < nl->l[k].n; i++)
			if (strcmp(nl->l[k].v[i], e164) == 0)
				return why[k];
	return NULL;
}

void
mcr_nlists_free(struct mcr_nlists *nl)
{
	if (nl == NULL)
		return;
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < nl->l[k].n; i++)
			free(nl->l[k].v[i]);
		free(nl->l[k].v);
	}
	free(nl);
}
