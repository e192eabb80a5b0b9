/* Headed CSV files of the practice, split by libcsv one line a record. */
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "mcr.h"

#define MAXFIELDS	64
#define MAXLINE		65536

struct mcr_csv {
	FILE	*fp;
	const char *name;
	struct csv_parser p;
	char	*line;
	size_t	 cap;
	long	 lineno;
	char	*f[MAXFIELDS];
	int	 n;
};

static void
field(void *s, size_t len, void *arg)
{
	struct mcr_csv *c = arg;
	char *v;

	if (c->n >= MAXFIELDS)
		return;
	v = mcr_xmalloc(len + 1);
	if (len > 0)
		memcpy(v, s, len);
	v[len] = '\0';
	c->f[c->n++] = v;
}

static void
row(int ch, void *arg)
{
	(void)ch;
	(void)arg;
}

struct mcr_csv *
mcr_csv_open(FILE *fp, const char *name)
{
	struct mcr_csv *c = mcr_xcalloc(1, sizeof(*c));

	c->fp = fp;
	c->name = name;
	csv_init(&c->p, 0);
	return c;
}

static void
clear(struct mcr_csv *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->f[i]);
	c->n = 0;
}

int
mcr_csv_next(struct mcr_csv *c, char ***fields)
{
	ssize_t len;
	char *s;

	clear(c);
	for (;;) {
		if ((len = getline(&c->line, &c->cap, c->fp)) == -1)
			return 0;
		c->lineno++;
		s = c->line;
		if (c->lineno == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) ==
		    0) {
			s += 3;
			len -= 3;
		}
		while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
			s[--len] = '\0';
		if (len > MAXLINE) {
			mcr_warn("%s:%ld: line longer than %d bytes", c->name,
			    c->lineno, MAXLINE);
			return -1;
		}
		if (strspn(s, " \t,") == (size_t)len)
			continue;
		csv_parse(&c->p, s, (size_t)len, field, row, c);
		csv_fini(&c->p, field, row, c);
		*fields = c->f;
		return c->n;
	}
}

long
mcr_csv_line(struct mcr_csv *c)
{
	return c->lineno;
}

void
mcr_csv_close(struct mcr_csv *c)
{
	if (c == NULL)
		return;
	clear(c);
	csv_free(&c->p);
	free(c->line);
	free(c);
}
