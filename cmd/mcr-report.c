/* mcr-report: what staff and the practice manager read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcr.h"
#include "json.h"

struct opts {
	const char *config, *db, *format, *period;
	int	 days;
};

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-h] [-c config] [-d store] "
	    "[-o table|csv|json|html] [-p period] [-s days] [callbacks]\n"
	    "periods: today, yesterday, this-week, last-week, this-month, "
	    "last-month, YYYY-MM-DD..YYYY-MM-DD\n", mcr_util_prog());
	exit(MCR_EXIT_USAGE);
}

struct out {
	int	 json;
	long	 n;
	struct mcr_buf b;
};

/* "a b c" as a JSON array of strings. */
static void
words(struct mcr_buf *b, const char *key, const char *s)
{
	mcr_json_key(b, key);
	mcr_buf_puts(b, "[");
	for (int first = 1; s != NULL && *s != '\0';) {
		size_t n = strcspn(s, " ");
		char w[128];

		if (n > 0 && n < sizeof(w)) {
			memcpy(w, s, n);
			w[n] = '\0';
			if (!first)
				mcr_buf_puts(b, ",");
			mcr_json_str(b, w);
			first = 0;
		}
		s += n;
		s += strspn(s, " ");
	}
	mcr_buf_puts(b, "]");
}

static int
row(void *arg, const struct mcr_callback *cb)
{
	struct out *o = arg;
	struct mcr_buf *b = &o->b;
	char at[21];

	o->n++;
	mcr_buf_reset(b);
	if (o->json) {
		mcr_buf_puts(b, "{");
		mcr_json_kstr(b, "type", "callback");
		mcr_json_knull(b, "id");
		mcr_json_kint(b, "case_id", cb->case_id);
		mcr_json_kstr(b, "number", cb->number);
		mcr_json_kstr(b, "state", cb->state);
		mcr_json_kstr(b, "reason", cb->reason);
		mcr_json_ktime(b, "since", cb->since);
		words(b, "calls", cb->calls);
		words(b, "tried", cb->tried);
		mcr_buf_puts(b, "}\n");
	} else
		mcr_buf_printf(b, "%-6lld %-16s %-20s %-10s %-31.31s %s\n",
		    (long long)cb->case_id, cb->number, mcr_time_fmt(cb->since,
		    at), cb->state, cb->reason ? cb->reason : "-",
		    cb->tried ? cb->tried : "nothing sent");
	fwrite(b->s, 1, b->len, stdout);
	return 0;
}

static int
callbacks(const struct opts *o, const struct mcr_config *cfg)
{
	struct mcr_store *st;
	struct out out;
	int status = MCR_EXIT_OK;

	memset(&out, 0, sizeof(out));
	out.json = o->format != NULL ? strcmp(o->format, "json") == 0 :
	    !isatty(STDOUT_FILENO);
	if ((st = mcr_store_open(o->db ? o->db : cfg->store_path,
	    cfg->busy_timeout_ms, 1)) == NULL)
		return errno == EBUSY ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	if (!out.json)
		printf("%-6s %-16s %-20s %-10s %-31s %s\n", "case", "number",
		    "first call", "state", "why", "tried");
	if (mcr_store_callbacks(st, mcr_now() - (time_t)o->days * 86400, row,
	    &out) == -1)
		status = mcr_store_busy(st) ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	if (!out.json && out.n == 0 && status == MCR_EXIT_OK)
		printf("nobody to call back in the last %d days\n", o->days);
	mcr_buf_free(&out.b);
	mcr_store_close(st);
	return status;
}

static int
report(const struct opts *o, const struct mcr_config *cfg)
{
	struct mcr_store *st;
	struct mcr_report *r;
	char label[96];
	time_t from, to;
	const char *fmt = o->format;
	int status = MCR_EXIT_OK;

	if (mcr_report_period(o->period ? o->period : "last-week", cfg,
	    mcr_now(), &from, &to, label, sizeof(label)) == -1) {
		mcr_warn("-p %s: expected today, yesterday, this-week, "
		    "last-week, this-month, last-month or "
		    "YYYY-MM-DD..YYYY-MM-DD", o->period);
		return MCR_EXIT_USAGE;
	}
	if (fmt == NULL)
		fmt = isatty(STDOUT_FILENO) ? "table" : "json";
	if ((st = mcr_store_open(o->db ? o->db : cfg->store_path,
	    cfg->busy_timeout_ms, 1)) == NULL)
		return errno == EBUSY ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	r = mcr_xmalloc(sizeof(*r));
	if (mcr_report_make(st, cfg, from, to, r) == -1)
		status = mcr_store_busy(st) ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	else
		mcr_report_write(stdout, r, cfg, fmt, label);
	free(r);
	mcr_store_close(st);
	return status;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct mcr_config *cfg;
	long long v;
	const char *e;
	int ch, status;

	mcr_util_setprog(argv[0]);
	memset(&o, 0, sizeof(o));
	o.days = 7;
	while ((ch = getopt(argc, argv, "c:d:ho:p:s:")) != -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'd':
			o.db = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "table") != 0 &&
			    strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "csv") != 0 &&
			    strcmp(optarg, "html") != 0) {
				mcr_warn("-o %s: expected table, csv, json or "
				    "html", optarg);
				usage();
			}
			o.format = optarg;
			break;
		case 'p':
			o.period = optarg;
			break;
		case 's':
			if (mcr_util_num(optarg, 1, 3660, &v, &e) == -1) {
				mcr_warn("-s %s: days %s (1 to 3660)", optarg,
				    e);
				usage();
			}
			o.days = (int)v;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 1 && strcmp(argv[0], "callbacks") != 0)) {
		if (argc >= 1)
			mcr_warn("%s: unknown report: expected callbacks, or "
			    "none for the period report", argv[0]);
		usage();
	}
	if (argc == 1 && o.format != NULL && strcmp(o.format, "table") != 0 &&
	    strcmp(o.format, "json") != 0) {
		mcr_warn("callbacks: -o %s: expected table or json", o.format);
		usage();
	}
	if ((cfg = mcr_config_load(o.config)) == NULL)
		return MCR_EXIT_USAGE;
	status = argc == 1 ? callbacks(&o, cfg) : report(&o, cfg);
	mcr_config_free(cfg);
	return mcr_util_done(status);
}
