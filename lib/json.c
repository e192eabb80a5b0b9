/* Writing JSON lines fast; reading goes through jansson. */
#include <string.h>

#include "mcr.h"
#include "json.h"

void
mcr_json_str(struct mcr_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;

	if (s == NULL) {
		mcr_buf_add(b, "null", 4);
		return;
	}
	mcr_buf_add(b, "\"", 1);
	for (run = s; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		mcr_buf_add(b, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			mcr_buf_add(b, esc, 2);
			break;
		case '\n':
			mcr_buf_add(b, "\\n", 2);
			break;
		case '\r':
			mcr_buf_add(b, "\\r", 2);
			break;
		case '\t':
			mcr_buf_add(b, "\\t", 2);
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			mcr_buf_add(b, esc, 6);
		}
	}
	mcr_buf_add(b, run, (size_t)(s - run));
	mcr_buf_add(b, "\"", 1);
}

void
mcr_json_key(struct mcr_buf *b, const char *key)
{
	if (b->len > 0 && b->s[b->len - 1] != '{')
		mcr_buf_add(b, ",", 1);
	mcr_buf_add(b, "\"", 1);
	mcr_buf_puts(b, key);
	mcr_buf_add(b, "\":", 2);
}

void
mcr_json_kstr(struct mcr_buf *b, const char *key, const char *v)
{
	mcr_json_key(b, key);
	mcr_json_str(b, v);
}

void
mcr_json_kint(struct mcr_buf *b, const char *key, long long v)
{
	char d[24], *p = d + sizeof(d);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	mcr_json_key(b, key);
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	mcr_buf_add(b, p, (size_t)(d + sizeof(d) - p));
}

void
mcr_json_kbool(struct mcr_buf *b, const char *key, int v)
{
	mcr_json_key(b, key);
	mcr_buf_puts(b, v ? "true" : "false");
}

void
mcr_json_knull(struct mcr_buf *b, const char *key)
{
	mcr_json_key(b, key);
	mcr_buf_add(b, "null", 4);
}

void
mcr_json_ktime(struct mcr_buf *b, const char *key, long long t)
{
	char ts[21];

	if (t < 0) {
		mcr_json_knull(b, key);
		return;
	}
	mcr_json_kstr(b, key, mcr_time_fmt((time_t)t, ts));
}
