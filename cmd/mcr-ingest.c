/* mcr-ingest: read phone-system call records, store calls, open cases. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mcr.h"

#define BATCH		2000	/* rows between storing the settled calls */
#define COMMIT		200000	/* rows between commits: about a second */
#define HEADLEN		256	/* bytes fingerprinted to notice rotation */
#define POLL_MS		100	/* follow mode */

struct opts {
	const char *config, *db, *format;
	int	 all, dry, follow, verbose;
};

static volatile sig_atomic_t stop;
static int progress;

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-afhnv] [-c config] [-d store] "
	    "[-F format] [file ...]\n", mcr_util_prog());
	exit(MCR_EXIT_USAGE);
}

static void
onsig(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
headhash(FILE *fp, int *len)
{
	char buf[HEADLEN];
	off_t cur = ftello(fp);
	size_t n;

	fseeko(fp, 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf), fp);
	fseeko(fp, cur, SEEK_SET);
	*len = (int)n;
	return mcr_util_hash(buf, n, 0);
}

static enum mcr_fmt
pickformat(const struct opts *o, const struct mcr_config *cfg, FILE *fp,
    const char *name, int seekable)
{
	enum mcr_fmt f;
	char buf[4096];
	size_t n;

	if (o->format != NULL)
		return mcr_cdr_fmtbyname(o->format);
	if (cfg->format != NULL)
		return mcr_cdr_fmtbyname(cfg->format);
	if (!seekable) {
		mcr_warn("%s: cannot detect the format of a pipe: use -F %s",
		    name, "FORMAT");
		return MCR_FMT_NONE;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	/* an empty file that is followed: wait for its first line */
	while (o->follow && !stop && memchr(buf, '\n', n) == NULL) {
		struct timespec ts = { 0, POLL_MS * 1000000L };

		nanosleep(&ts, NULL);
		clearerr(fp);
		fseeko(fp, 0, SEEK_SET);
		n = fread(buf, 1, sizeof(buf) - 1, fp);
	}
	fseeko(fp, 0, SEEK_SET);
	if (n == 0)
		return MCR_FMT_JSONL;	/* empty: any reader will do */
	if ((f = mcr_cdr_detect(buf, n)) == MCR_FMT_NONE)
		mcr_warn("%s: cannot tell the format: use -F with one of %s",
		    name, mcr_cdr_fmtlist());
	return f;
}

static void
showprogress(const char *name, int64_t off, int64_t size, long rows)
{
	static int64_t last;
	int64_t now = mcr_clock_ms();

	if (!progress || size <= 0 || now - last < 500)
		return;
	last = now;
	fprintf(stderr, "\r%s: %s: %3d%% %ld rows", mcr_util_prog(), name,
	    (int)(off * 100 / size), rows);
}

/*
 * Read one file (or stdin) to its end, or follow it.  Returns an exit
 * status.
 */
static int
ingest(struct mcr_ingest *g, struct mcr_store *st,
    const struct mcr_config *cfg, const struct opts *o, const char *path)
{
	struct mcr_filepos pos, old;
	struct mcr_cdr *r;
	struct mcr_cdrq *q = NULL;
	struct mcr_leg leg;
	struct stat sb;
	FILE *fp;
	enum mcr_fmt fmt;
	int isstdin = strcmp(path, "-") == 0, rc, status = MCR_EXIT_OK, known;
	int final;
	long nrows = 0;
	const char *name = isstdin ? "-" : path;
	int64_t lastflush = mcr_clock_ms(), lastsweep = lastflush;

	if (isstdin)
		fp = stdin;
	else if ((fp = fopen(path, "rb")) == NULL) {
		mcr_warn("%s: %s", path, strerror(errno));
		return MCR_EXIT_PART;
	}
	memset(&pos, 0, sizeof(pos));
	if (fstat(fileno(fp), &sb) == -1) {
		mcr_warn("%s: %s", name, strerror(errno));
		goto fail;
	}
	if ((fmt = pickformat(o, cfg, fp, name, S_ISREG(sb.st_mode))) ==
	    MCR_FMT_NONE) {
		status = MCR_EXIT_USAGE;
		goto out;
	}
	if (!isstdin && S_ISREG(sb.st_mode)) {
		pos.dev = (int64_t)sb.st_dev;
		pos.ino = (int64_t)sb.st_ino;
		pos.head = headhash(fp, &pos.headlen);
		if ((known = mcr_store_filepos_get(st, path, &old)) == -1)
			goto fail;
		if (known == 0 && old.ino == pos.ino && old.dev == pos.dev &&
		    old.offset <= sb.st_size && old.headlen <= pos.headlen) {
			int hl;
			char buf[HEADLEN];
			size_t n;

			fseeko(fp, 0, SEEK_SET);
			n = fread(buf, 1, (size_t)old.headlen, fp);
			hl = (int)n;
			if (hl == old.headlen && mcr_util_hash(buf, n, 0) ==
			    old.head) {
				pos.offset = old.offset;
				pos.line = old.line;
			} else if (o->verbose)
				mcr_warn("%s: rewritten since the last run: "
				    "reading from the start", name);
		} else if (known == 0 && o->verbose)
			mcr_warn("%s: %s since the last run: reading from the "
			    "start", name, old.ino != pos.ino ? "rotated" :
			    "truncated");
		if (fseeko(fp, pos.offset, SEEK_SET) == -1) {
			mcr_warn("%s: %s", name, strerror(errno));
			goto fail;
		}
		if (pos.offset == sb.st_size && !o->follow)
			goto out;	/* nothing new */
	}
	/*
	 * A last line without its newline may be one the phone system is
	 * still writing: it is left for the next run, unless the input is a
	 * pipe or the file has not changed for a minute.
	 */
	final = !o->follow && (!S_ISREG(sb.st_mode) ||
	    time(NULL) - sb.st_mtime > 60);
	r = mcr_cdr_open(fmt, fp, name, cfg, pos.line);
	/* a whole file is read on a thread of its own, while calls are stored */
	q = o->follow ? NULL : mcr_cdrq_open(r, cfg, final);
	if (q != NULL && sb.st_size - pos.offset > 16 * 1024 * 1024)
		mcr_store_bulk(st, 1);	/* a backfill */
	for (;;) {
		rc = q != NULL ? mcr_cdrq_next(q, &leg) : mcr_cdr_next(r, &leg,
		    final);
		if (rc == -2) {
			mcr_warn("%s: not %s input: nothing stored (use -F to "
			    "pick the format)", name, mcr_cdr_fmtname(fmt));
			mcr_cdrq_close(q);
			mcr_cdr_close(r);
			status = MCR_EXIT_USAGE;
			goto out;
		}
		if (rc == -1) {
			status = MCR_EXIT_PART;
			continue;
		}
		if (rc == 1) {
			mcr_ingest_leg(g, &leg, name, q != NULL ?
			    mcr_cdrq_legoffset(q) : mcr_cdr_legoffset(r));
			if (++nrows % BATCH != 0)
				continue;
			pos.offset = q != NULL ? mcr_cdrq_offset(q) :
			    mcr_cdr_offset(r);
			pos.line = q != NULL ? mcr_cdrq_line(q) : mcr_cdr_line(r);
			showprogress(name, pos.offset, sb.st_size, nrows);
			if (mcr_ingest_flush(g, MCR_FLUSH_WINDOW, isstdin ?
			    NULL : path, isstdin ? NULL : &pos,
			    nrows % COMMIT == 0) == -1)
				goto storefail;
			continue;
		}
		/* at the end of what is there */
		pos.offset = q != NULL ? mcr_cdrq_offset(q) : mcr_cdr_offset(r);
		pos.line = q != NULL ? mcr_cdrq_line(q) : mcr_cdr_line(r);
		if (!o->follow) {
			if (mcr_ingest_flush(g, MCR_FLUSH_ALL, isstdin ? NULL :
			    path, isstdin ? NULL : &pos, 1) == -1)
				goto storefail;
			break;
		}
		if (mcr_ingest_held(g) > 0 || mcr_clock_ms() - lastflush >
		    1000) {
			if (mcr_ingest_flush(g, stop ? MCR_FLUSH_ALL :
			    cfg->settle_ms, path, &pos, 1) == -1)
				goto storefail;
			lastflush = mcr_clock_ms();
			fflush(stdout);
			if (ferror(stdout))
				break;
		}
		if (stop)
			break;
		if (mcr_clock_ms() - lastsweep > 60000) {
			/* queue calls that never got an exit event */
			if (mcr_ingest_sweep(g) == -1)
				goto storefail;
			lastsweep = mcr_clock_ms();
		}
		{
			struct stat now;

			/* rotated: finish the old file, then take the new one */
			if (stat(path, &now) == 0 && (now.st_ino != sb.st_ino ||
			    now.st_dev != sb.st_dev)) {
				while ((rc = mcr_cdr_next(r, &leg, 1)) != 0)
					if (rc == 1)
						mcr_ingest_leg(g, &leg, name,
						    -1);
				if (mcr_ingest_flush(g, MCR_FLUSH_ALL, NULL,
				    NULL, 1) == -1)
					goto storefail;
				mcr_cdr_close(r);
				fclose(fp);
				if ((fp = fopen(path, "rb")) == NULL ||
				    fstat(fileno(fp), &sb) == -1) {
					mcr_warn("%s: %s", path,
					    strerror(errno));
					return MCR_EXIT_PART;
				}
				if (o->verbose)
					mcr_warn("%s: rotated: following the "
					    "new file", name);
				memset(&pos, 0, sizeof(pos));
				pos.dev = (int64_t)sb.st_dev;
				pos.ino = (int64_t)sb.st_ino;
				pos.head = headhash(fp, &pos.headlen);
				r = mcr_cdr_open(fmt, fp, name, cfg, 0);
				continue;
			}
			if (fstat(fileno(fp), &now) == 0 && now.st_size <
			    mcr_cdr_offset(r)) {
				if (o->verbose)
					mcr_warn("%s: truncated: reading from "
					    "the start", name);
				mcr_cdr_reset(r, 0, 0);
				pos.head = headhash(fp, &pos.headlen);
				continue;
			}
			if (pos.headlen < HEADLEN)
				pos.head = headhash(fp, &pos.headlen);
		}
		{
			struct timespec ts = { 0, POLL_MS * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	mcr_cdrq_close(q);
	mcr_store_bulk(st, 0);
	mcr_cdr_close(r);
	if (progress)
		fprintf(stderr, "\r\033[K");
out:
	if (!isstdin)
		fclose(fp);
	return status;
storefail:
	mcr_cdrq_close(q);
	mcr_store_bulk(st, 0);
	mcr_cdr_close(r);
	if (!isstdin)
		fclose(fp);
	return mcr_store_busy(st) ? MCR_EXIT_TEMP : MCR_EXIT_PART;
fail:
	if (!isstdin)
		fclose(fp);
	return mcr_store_busy(st) ? MCR_EXIT_TEMP : MCR_EXIT_PART;
}

static void
summary(struct mcr_ingest *g)
{
	const struct mcr_ingest_stats *s = mcr_ingest_stats(g);

	fprintf(stderr, "%s: %ld rows (%ld already stored), %ld new calls, "
	    "%ld updated, %ld missed, %ld no longer missed, %ld "
	    "undecided\n", mcr_util_prog(), s->rows, s->dup, s->calls,
	    s->updated, s->missed, s->corrected, s->pending);
	fprintf(stderr, "%s: outcomes:", mcr_util_prog());
	for (int i = 0; i < MCR_OUT_N; i++)
		if (s->by_outcome[i] > 0)
			fprintf(stderr, " %s %ld", mcr_outcome_name(i),
			    s->by_outcome[i]);
	fprintf(stderr, "\n%s: cases: %ld opened (%ld skipped), %ld joined, "
	    "%ld resolved by a call\n", mcr_util_prog(), s->cases_opened,
	    s->skipped_cases, s->cases_joined, s->cases_resolved);
	fprintf(stderr, "%s: local times in the repeated autumn hour: %ld; "
	    "in the skipped spring hour: %ld; numbers parsed: %ld\n",
	    mcr_util_prog(), s->repeated_hour, s->skipped_hour,
	    mcr_phone_parses());
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct mcr_config *cfg;
	struct mcr_store *st;
	struct mcr_ingest *g;
	const char *dbpath;
	int ch, status = MCR_EXIT_OK, s;

	mcr_util_setprog(argv[0]);
	memset(&o, 0, sizeof(o));
	while ((ch = getopt(argc, argv, "F:ac:d:fhnv")) != -1) {
		switch (ch) {
		case 'F':
			if (mcr_cdr_fmtbyname(optarg) == MCR_FMT_NONE) {
				mcr_warn("unknown format '%s': expected one of "
				    "%s", optarg, mcr_cdr_fmtlist());
				return MCR_EXIT_USAGE;
			}
			o.format = optarg;
			break;
		case 'a':
			o.all = 1;
			break;
		case 'c':
			o.config = optarg;
			break;
		case 'd':
			o.db = optarg;
			break;
		case 'f':
			o.follow = 1;
			break;
		case 'n':
			o.dry = 1;
			break;
		case 'v':
			o.verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (o.follow && (argc != 1 || strcmp(argv[0], "-") == 0)) {
		mcr_warn("-f follows exactly one file");
		usage();
	}
	if ((cfg = mcr_config_load(o.config)) == NULL)
		return MCR_EXIT_USAGE;
	dbpath = o.db ? o.db : cfg->store_path;
	if ((st = mcr_store_open_run(dbpath, cfg->busy_timeout_ms,
	    o.dry)) == NULL) {
		mcr_config_free(cfg);
		return errno == EBUSY ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	}
	if ((g = mcr_ingest_new(st, cfg, stdout, o.dry, o.all)) == NULL) {
		mcr_store_close(st);
		mcr_config_free(cfg);
		return MCR_EXIT_USAGE;
	}
	progress = isatty(STDERR_FILENO) && !o.follow;
	signal(SIGINT, onsig);
	signal(SIGTERM, onsig);
	if (mcr_ingest_sweep(g) == -1)
		status = mcr_store_busy(st) ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	for (int i = 0; i == 0 || i < argc; i++) {
		if (status == MCR_EXIT_TEMP || status == MCR_EXIT_USAGE)
			break;
		/* a pipe cannot be read twice: look every call up */
		if (argc == 0 || strcmp(argv[i], "-") == 0)
			mcr_ingest_restart(g);
		s = ingest(g, st, cfg, &o, argc == 0 ? "-" : argv[i]);
		if (s == MCR_EXIT_PART && mcr_ingest_conflict(g)) {
			/* legs of a call far apart: again, looking all up */
			mcr_ingest_restart(g);
			s = ingest(g, st, cfg, &o, argv[i]);
		}
		if (s > status)
			status = s;
		if (stop)
			break;
	}
	if (status != MCR_EXIT_TEMP && mcr_ingest_held(g) > 0 &&
	    mcr_ingest_flush(g, MCR_FLUSH_ALL, NULL, NULL, 1) == -1)
		status = mcr_store_busy(st) ? MCR_EXIT_TEMP : MCR_EXIT_PART;
	if (o.verbose)
		summary(g);
	mcr_ingest_free(g);
	mcr_store_close(st);
	mcr_config_free(cfg);
	return mcr_util_done(status);
}
