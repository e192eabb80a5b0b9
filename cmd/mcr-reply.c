/* mcr-reply: webhooks in, the booking conversation, receipts. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcr.h"

struct opts {
	const char *config, *db, *listen, *portfile;
	int	 dry, verbose;
};

static volatile sig_atomic_t quit;

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-hnv] [-c config] [-d store] "
	    "[-l address:port] [-p portfile]\n", mcr_util_prog());
	exit(MCR_EXIT_USAGE);
}

static void
onsig(int sig)
{
	(void)sig;
	quit = 1;
	mcr_send_quit = 1;
}

/*
 * Payloads on stdin, one a line: a JSON object is Meta's, anything else a
 * Twilio form body.
 */
static void
payloads(struct mcr_conv *c)
{
	char *line = NULL, where[32];
	size_t cap = 0;
	ssize_t n;
	long no = 0;

	while (!quit && (n = getline(&line, &cap, stdin)) != -1) {
		size_t len = (size_t)n;
		const char *p = line;

		no++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			continue;
		snprintf(where, sizeof(where), "stdin:%ld", no);
		if (mcr_conv_payload(c, *p == '{' ? "meta" : "twilio", line,
		    len, where) == -2)
			break;
	}
	free(line);
}

static int
writeport(const char *file, int port)
{
	char tmp[4096];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	if ((fp = fopen(tmp, "w")) == NULL || fprintf(fp, "%d\n", port) < 0 ||
	    fclose(fp) == EOF || rename(tmp, file) == -1) {
		mcr_warn("%s: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

/* The listener stores; this thread runs the conversation from the inbox. */
static int
serve(struct mcr_conv *c, const struct mcr_config *cfg, const struct opts *o,
    const char *dbpath)
{
	struct mcr_listener *l;
	struct mcr_listen_stats ls;

	if ((l = mcr_listen_start(cfg, o->listen, dbpath)) == NULL)
		return MCR_EXIT_USAGE;
	if (o->portfile != NULL && writeport(o->portfile,
	    mcr_listen_port(l)) == -1) {
		mcr_listen_stop(l);
		return MCR_EXIT_PART;
	}
	/* what an earlier run stored and did not finish */
	mcr_conv_inbox(c);
	while (!quit) {
		struct pollfd pfd = { mcr_listen_fd(l), POLLIN, 0 };

		if (poll(&pfd, 1, 1000) > 0)
			mcr_listen_drain(l);
		if (mcr_conv_inbox(c) == -1) {
			/* the store is busy: the payloads wait in the inbox */
			struct timespec ts = { 0, 200 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	mcr_listen_stats(l, &ls);
	mcr_listen_stop(l);
	/* anything stored while stopping */
	mcr_conv_inbox(c);
	if (o->verbose)
		fprintf(stderr, "%s: %ld requests: %ld stored, %ld refused "
		    "(bad signature), %ld too large, %ld not a payload, %ld "
		    "not stored\n", mcr_util_prog(), ls.requests, ls.stored,
		    ls.forbidden, ls.big, ls.bad, ls.failed);
	return MCR_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct mcr_config *cfg;
	struct mcr_store *st;
	struct mcr_conv *c;
	struct sigaction sa;
	const char *dbpath;
	int ch, status;

	mcr_util_setprog(argv[0]);
	memset(&o, 0, sizeof(o));
	while ((ch = getopt(argc, argv, "c:d:hl:np:v")) != -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'd':
			o.db = optarg;
			break;
		case 'l':
			o.listen = optarg;
			break;
		case 'n':
			o.dry = 1;
			break;
		case 'p':
			o.portfile = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (o.dry && o.listen != NULL))
		usage();
	if ((cfg = mcr_config_load(o.config)) == NULL)
		return MCR_EXIT_USAGE;
	{
		struct stat sb;

		/* no stdin (a service's /dev/null): listen as configured */
		if (o.listen == NULL && !o.dry && (fstat(STDIN_FILENO,
		    &sb) == -1 || S_ISCHR(sb.st_mode)))
			o.listen = cfg->listen;
	}
	dbpath = o.db ? o.db : cfg->store_path;
	if ((st = mcr_store_open_run(dbpath, cfg->busy_timeout_ms,
	    o.dry)) == NULL) {
		mcr_config_free(cfg);
		return errno == EBUSY ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	}
	if ((c = mcr_conv_new(st, cfg, stdout, o.dry)) == NULL) {
		mcr_store_close(st);
		mcr_config_free(cfg);
		return MCR_EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	status = MCR_EXIT_OK;
	if (o.listen != NULL)
		status = serve(c, cfg, &o, dbpath);
	else
		payloads(c);
	if (mcr_conv_status(c) > status)
		status = mcr_conv_status(c);
	if (o.verbose) {
		const struct mcr_conv_stats *t = mcr_conv_stats(c);

		fprintf(stderr, "%s: %ld messages, %ld receipts (%ld not "
		    "ours), %ld duplicates, %ld bad; %ld replies, %ld offers, "
		    "%ld bookings (%ld slots taken first), %ld escalations\n",
		    mcr_util_prog(), t->messages, t->receipts, t->unknown,
		    t->dups, t->bad, t->replies, t->offers, t->bookings,
		    t->taken, t->escalations);
	}
	mcr_conv_free(c);
	mcr_store_close(st);
	mcr_config_free(cfg);
	return mcr_util_done(status);
}
