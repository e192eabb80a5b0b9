/* mcr-followup: reminders for callers who have not answered. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcr.h"

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-hnv] [-c config] [-d store]\n",
	    mcr_util_prog());
	exit(MCR_EXIT_USAGE);
}

static void
onsig(int sig)
{
	(void)sig;
	mcr_send_quit = 1;
}

int
main(int argc, char *argv[])
{
	const char *config = NULL, *db = NULL, *dbpath;
	struct mcr_config *cfg;
	struct mcr_store *st;
	struct mcr_follow *f;
	struct sigaction sa;
	int ch, dry = 0, verbose = 0, status;

	mcr_util_setprog(argv[0]);
	while ((ch = getopt(argc, argv, "c:d:hnv")) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((cfg = mcr_config_load(config)) == NULL)
		return MCR_EXIT_USAGE;
	dbpath = db ? db : cfg->store_path;
	if ((st = mcr_store_open_run(dbpath, cfg->busy_timeout_ms,
	    dry)) == NULL) {
		mcr_config_free(cfg);
		return errno == EBUSY ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	}
	if ((f = mcr_follow_new(st, cfg, stdout, dry)) == NULL) {
		mcr_store_close(st);
		mcr_config_free(cfg);
		return MCR_EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mcr_follow_run(f);
	status = mcr_follow_status(f);
	if (verbose) {
		const struct mcr_follow_stats *t = mcr_follow_stats(f);

		fprintf(stderr, "%s: %ld cases followed: %ld messages, %ld "
		    "expired, %ld waiting for allowed hours\n",
		    mcr_util_prog(), t->cases, t->sent, t->expired,
		    t->waiting);
	}
	mcr_follow_free(f);
	mcr_store_close(st);
	mcr_config_free(cfg);
	return mcr_util_done(status);
}
