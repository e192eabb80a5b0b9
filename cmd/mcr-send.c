/* mcr-send: the instant recovery message to each missed caller. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcr.h"

#define WITHIN	60	/* seconds: a case due this soon is waited for */

struct opts {
	const char *config, *db;
	int	 dry, only, store, verbose;
};

#define SWEEP	60	/* seconds between looks at the store in a pipe */

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-hnrsv] [-c config] [-d store]\n",
	    mcr_util_prog());
	exit(MCR_EXIT_USAGE);
}

static void
onsig(int sig)
{
	(void)sig;
	mcr_send_quit = 1;
}

/*
 * Records on stdin, as they come; held cases sent when due.  The pipe is
 * the trigger and the store the truth: unless only, the store's due cases
 * are sent too, at the end and every minute of a pipe that stays open (a
 * case left for a retry, a record that never came).
 */
static void
records(struct mcr_send *s, int only)
{
	char *buf = NULL, where[32];
	size_t len = 0, cap = 0;
	long line = 0;
	int eof = 0, drained = 0;
	int64_t swept = mcr_clock_ms();

	while (!eof && !mcr_send_quit) {
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
		int next, wait = 0, stopped = mcr_send_stopped(s);
		ssize_t n;
		char *p, *nl;

		/*
		 * Once sending stopped, the records already there still open
		 * their cases, for the next run to send; then it ends.
		 */
		if (!stopped) {
			next = mcr_send_tick(s, 1 << 30);
			if (!only && mcr_clock_ms() - swept >= SWEEP * 1000) {
				mcr_send_due(s, 0);
				swept = mcr_clock_ms();
				continue;
			}
			wait = only ? -1 : SWEEP * 1000 -
			    (int)(mcr_clock_ms() - swept);
			if (next >= 0 && (wait < 0 || next * 1000 + 100 < wait))
				wait = next * 1000 + 100;
		}
		/* and not for ever, when a pipe keeps on coming */
		if (stopped && ++drained > 64)
			break;
		if (poll(&pfd, 1, wait) <= 0) {
			if (stopped)
				break;
			continue;
		}
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 131072;
			buf = mcr_xrealloc(buf, cap);
		}
		if ((n = read(STDIN_FILENO, buf + len, cap - len)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			mcr_warn("stdin: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			eof = 1;
			if (len > 0)	/* a last line without its newline */
				buf[len++] = '\n';
		}
		len += (size_t)n;
		for (p = buf; (nl = memchr(p, '\n', len - (size_t)(p - buf)))
		    != NULL; p = nl + 1) {
			snprintf(where, sizeof(where), "stdin:%ld", ++line);
			mcr_send_line(s, p, (size_t)(nl - p), where);
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
	}
	free(buf);
	if (mcr_send_quit || mcr_send_stopped(s))
		return;
	if (only)
		mcr_send_wait(s, WITHIN);
	else
		mcr_send_due(s, WITHIN);
}

static void
summary(struct mcr_send *s)
{
	const struct mcr_send_stats *t = mcr_send_stats(s);

	fprintf(stderr, "%s: %ld records, %ld bad; %ld sent, %ld skipped, "
	    "%ld failed, %ld uncertain; %ld retries, %ld SMS fallbacks\n",
	    mcr_util_prog(), t->records, t->bad, t->sent, t->skipped,
	    t->failed, t->uncertain, t->retried, t->fallback);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct mcr_config *cfg;
	struct mcr_store *st;
	struct mcr_send *s;
	struct sigaction sa;
	struct stat sb;
	const char *dbpath;
	int ch, status;

	mcr_util_setprog(argv[0]);
	memset(&o, 0, sizeof(o));
	while ((ch = getopt(argc, argv, "c:d:hnrsv")) != -1) {
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
		case 'r':
			o.only = 1;
			break;
		case 's':
			o.store = 1;
			break;
		case 'v':
			o.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* no stdin (a terminal, /dev/null under cron): the store's cases */
	if (fstat(STDIN_FILENO, &sb) == -1 || S_ISCHR(sb.st_mode))
		o.store = 1;
	if ((cfg = mcr_config_load(o.config)) == NULL)
		return MCR_EXIT_USAGE;
	dbpath = o.db ? o.db : cfg->store_path;
	if ((st = mcr_store_open_run(dbpath, cfg->busy_timeout_ms,
	    o.dry)) == NULL) {
		mcr_config_free(cfg);
		return errno == EBUSY ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	}
	if ((s = mcr_send_new(st, cfg, stdout, o.dry)) == NULL) {
		mcr_store_close(st);
		mcr_config_free(cfg);
		return MCR_EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;	/* no SA_RESTART: poll and sleeps wake */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/*
	 * A closed stdout or a provider's socket closing under TLS must not
	 * kill the process mid-send: that would leave an uncertain message.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (o.store)
		mcr_send_due(s, WITHIN);
	else if (mcr_send_recover(s) == 0)
		records(s, o.only);
	if (o.verbose)
		summary(s);
	status = mcr_send_status(s);
	mcr_send_free(s);
	mcr_store_close(st);
	mcr_config_free(cfg);
	return mcr_util_done(status);
}
