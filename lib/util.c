/* Messages, allocation, numbers, hashing, strings. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"

static const char *prog = "mcr";

void
mcr_util_setprog(const char *argv0)
{
	const char *p;

	/*
	 * A file-size limit (ulimit -f) must give a write error that the
	 * store reports, not a signal that kills the program mid-write.
	 */
	signal(SIGXFSZ, SIG_IGN);
	if (argv0 == NULL)
		return;
	p = strrchr(argv0, '/');
	prog = p != NULL ? p + 1 : argv0;
}

const char *
mcr_util_prog(void)
{
	return prog;
}

void
mcr_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
oom(void)
{
	fprintf(stderr, "%s: out of memory\n", prog);
	exit(1);
}

void *
mcr_xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		oom();
	return p;
}

void *
mcr_xcalloc(size_t n, size_t sz)
{
	void *p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		oom();
	return p;
}

void *
mcr_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL)
		oom();
	return p;
}

char *
mcr_xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		oom();
	return p;
}

int
mcr_util_num(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	char *end;
	long long v;

	*errstr = NULL;
	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9'))) {
		*errstr = "invalid";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*errstr = "invalid";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * A 64-bit hash in the spirit of wyhash's mixing: 8 bytes a step, then a
 * final avalanche.  Stable: leg fingerprints are stored.
 */
static uint64_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t
mcr_util_hash(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), k;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		k = (uint64_t)p[i] | (uint64_t)p[i + 1] << 8 |
		    (uint64_t)p[i + 2] << 16 | (uint64_t)p[i + 3] << 24 |
		    (uint64_t)p[i + 4] << 32 | (uint64_t)p[i + 5] << 40 |
		    (uint64_t)p[i + 6] << 48 | (uint64_t)p[i + 7] << 56;
		h = (h ^ mix(k)) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	k = 0;
	for (; i < n; i++)
		k = k << 8 | p[i];
	h = (h ^ mix(k ^ 0x5bd1e995)) * 0x9e3779b97f4a7c15ULL;
	return mix(h);
}

void
mcr_util_squash(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s && o < n - 1; s++)
		if (isalnum((unsigned char)*s))
			out[o++] = (char)tolower((unsigned char)*s);
	out[o] = '\0';
}

size_t
mcr_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int
mcr_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		int k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return 0;
		if (i + (size_t)k >= n)
			return 0;
		for (int j = 1; j <= k; j++)
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
		if (c == 0xe0 && p[i + 1] < 0xa0)
			return 0;
		if (c == 0xed && p[i + 1] >= 0xa0)
			return 0;
		if (c == 0xf0 && p[i + 1] < 0x90)
			return 0;
		if (c == 0xf4 && p[i + 1] >= 0x90)
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Windows-1252 0x80..0x9f; 0 where undefined (then U+FFFD). */
static const unsigned short cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178
};

char *
mcr_utf8_from_cp1252(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s), o = 0;

	if (size == 0)
		return buf;
	if (mcr_utf8_valid(s, n)) {
		mcr_strlcpy(buf, s, size);
		/* do not cut a sequence in half: s[o] is the first byte left */
		if (n >= size) {
			o = size - 1;
			while (o > 0 && ((unsigned char)s[o] & 0xc0) == 0x80)
				o--;
			buf[o] = '\0';
		}
		return buf;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned u = *p;
		char e[3];
		size_t k;

		if (u >= 0x80 && u < 0xa0)
			u = cp1252[u - 0x80] ? cp1252[u - 0x80] : 0xfffd;
		if (u < 0x80) {
			e[0] = (char)u;
			k = 1;
		} else if (u < 0x800) {
			e[0] = (char)(0xc0 | u >> 6);
			e[1] = (char)(0x80 | (u & 0x3f));
			k = 2;
		} else {
			e[0] = (char)(0xe0 | u >> 12);
			e[1] = (char)(0x80 | ((u >> 6) & 0x3f));
			e[2] = (char)(0x80 | (u & 0x3f));
			k = 3;
		}
		if (o + k >= size)
			break;
		memcpy(buf + o, e, k);
		o += k;
	}
	buf[o] = '\0';
	return buf;
}

void
mcr_buf_add(struct mcr_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->s = mcr_xrealloc(b->s, cap);
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
mcr_buf_puts(struct mcr_buf *b, const char *s)
{
	mcr_buf_add(b, s, strlen(s));
}

void
mcr_buf_printf(struct mcr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		mcr_buf_add(b, "", 0);
		b->s = mcr_xrealloc(b->s, b->len + (size_t)n + 1);
		b->cap = b->len + (size_t)n + 1;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
mcr_buf_reset(struct mcr_buf *b)
{
	b->len = 0;
	if (b->s != NULL)
		b->s[0] = '\0';
}

void
mcr_buf_free(struct mcr_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

int
mcr_util_done(int status)
{
	mcr_phone_reset();
	if (fflush(stdout) == EOF || ferror(stdout)) {
		mcr_warn("stdout: %s", strerror(errno));
		if (status == MCR_EXIT_OK)
			status = MCR_EXIT_PART;
	}
	return status;
}
