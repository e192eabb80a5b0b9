/* Phone numbers: withheld markers, extensions, a cache over libphonenumber. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcr.h"

/*
 * An open-addressing cache keyed by the raw string and region.  Full at
 * CACHE_MAX entries, it is emptied: memory stays bounded whatever the
 * number of distinct callers.
 */
#define CACHE_SLOTS	(1 << 17)
#define CACHE_MAX	(CACHE_SLOTS / 2)

struct entry {
	uint64_t h;
	char	*raw;
	struct mcr_number num;
};

static struct entry *cache;
static size_t ncache;
static long nparse;

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

void
mcr_phone_norm(const char *raw, const char *region, int extd,
    struct mcr_number *r)
{
	size_t len = strlen(raw), i;
	uint64_t h = mcr_util_hash(raw, len, (uint64_t)region[0] << 8 |
	    (uint64_t)region[1] | (uint64_t)extd << 16);

	if (len > 60) {
		parse(raw, region, extd, r);
		return;
	}
	if (cache == NULL)
		cache = mcr_xcalloc(CACHE_SLOTS, sizeof(*cache));
	for (i = h & (CACHE_SLOTS - 1); cache[i].raw != NULL;
	    i = (i + 1) & (CACHE_SLOTS - 1)) {
		if (cache[i].h == h && strcmp(cache[i].raw, raw) == 0) {
			*r = cache[i].num;
			return;
		}
	}
	parse(raw, region, extd, r);
	if (ncache >= CACHE_MAX) {
		mcr_phone_reset();
		cache = mcr_xcalloc(CACHE_SLOTS, sizeof(*cache));
		i = h & (CACHE_SLOTS - 1);
	}
	cache[i].h = h;
	cache[i].raw = mcr_xstrdup(raw);
	cache[i].num = *r;
	ncache++;
}

void
mcr_phone_reset(void)
{
	if (cache == NULL)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		free(cache[i].raw);
	free(cache);
	cache = NULL;
	ncache = 0;
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
