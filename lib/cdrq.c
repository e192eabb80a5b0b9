/*
 * A reader on its own thread: rows are split, parsed and their numbers
 * normalised while the caller stores the previous ones.  Legs are handed
 * over in blocks; their strings live in the block until the consumer moves
 * past it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mcr.h"

#define QN	256		/* legs a block */
#define QARENA	(65536 + 4096)	/* string bytes a block: one longest row */
/*
 * Enough blocks in flight for the reader to go on while the other thread
 * commits, and the other way round.
 */
#define QBLOCKS	12

struct qitem {
	struct mcr_leg leg;
	int	 rc;		/* 1 leg, -1 bad row, -2 wrong format */
	int64_t	 legoff, off, line;
};

struct qblock {
	struct qblock *next;
	int	 n;
	int	 last;		/* no block follows */
	size_t	 alen;
	struct qitem item[QN];
	char	 arena[QARENA];
};

struct mcr_cdrq {
	struct mcr_cdr *r;
	const struct mcr_config *cfg;
	int	 final;
	pthread_t th;
	int	 started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct qblock *free_, *full, **fulltail;
	struct qblock *cur;
	int	 pos;
	int	 stop;
	int	 done;
	int64_t	 off, line, legoff;
};

static const char *
keep(struct qblock *b, const char *s)
{
	size_t n;
	char *p;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	if (b->alen + n > QARENA)
		return "";	/* cannot happen: a block ends before */
	p = b->arena + b->alen;
	memcpy(p, s, n);
	b->alen += n;
	return p;
}

static void
put(struct mcr_cdrq *q, struct qblock *b)
{
	pthread_mutex_lock(&q->mu);
	b->next = NULL;
	*q->fulltail = b;
	q->fulltail = &b->next;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* A free block, waiting for one; NULL when told to stop. */
static struct qblock *
take(struct mcr_cdrq *q)
{
	struct qblock *b;

	pthread_mutex_lock(&q->mu);
	while (q->free_ == NULL && !q->stop)
		pthread_cond_wait(&q->cv, &q->mu);
	if (q->stop) {
		pthread_mutex_unlock(&q->mu);
		return NULL;
	}
	b = q->free_;
	q->free_ = b->next;
	pthread_mutex_unlock(&q->mu);
	b->n = 0;
	b->alen = 0;
	b->last = 0;
	return b;
}

static size_t
need(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

static void *
producer(void *arg)
{
	struct mcr_cdrq *q = arg;
	const struct mcr_config *cfg = q->cfg;
	struct qblock *b;
	struct mcr_leg leg;
	int rc;

	if ((b = take(q)) == NULL)
		return NULL;
	for (;;) {
		struct qitem *it;
		size_t n = 0;

		rc = mcr_cdr_next(q->r, &leg, q->final);
		if (rc == 1)
			n = need(leg.gkey) + need(leg.alias) + need(leg.caller) +
			    need(leg.caller_name) + need(leg.called) +
			    need(leg.context) + need(leg.channel);
		/* a full block goes; the row starts the next one */
		if (b->n == QN || b->alen + n > QARENA) {
			put(q, b);
			if ((b = take(q)) == NULL)
				return NULL;
		}
		it = &b->item[b->n];
		if (rc == 0 || rc == -2) {
			if (rc == -2) {
				it->rc = -2;
				b->n++;
			}
			b->last = 1;
			put(q, b);
			return NULL;
		}
		it->rc = rc;
		it->legoff = mcr_cdr_legoffset(q->r);
		it->off = mcr_cdr_offset(q->r);
		it->line = mcr_cdr_line(q->r);
		if (rc == 1) {
			it->leg = leg;
			it->leg.gkey = keep(b, leg.gkey);
			it->leg.alias = keep(b, leg.alias);
			it->leg.caller = keep(b, leg.caller);
			if (leg.caller_name != NULL) {
				char nm[64];	/* as much as a call keeps */

				it->leg.caller_name = keep(b,
				    mcr_utf8_from_cp1252(leg.caller_name, nm,
				    sizeof(nm)));
			} else
				it->leg.caller_name = NULL;
			it->leg.called = keep(b, leg.called);
			it->leg.context = keep(b, leg.context);
			it->leg.channel = keep(b, leg.channel);
			mcr_leg_normalise(&it->leg, cfg);
		}
		b->n++;
	}
}

struct mcr_cdrq *
mcr_cdrq_open(struct mcr_cdr *r, const struct mcr_config *cfg, int final)
{
	struct mcr_cdrq *q = mcr_xcalloc(1, sizeof(*q));

	q->r = r;
	q->cfg = cfg;
	q->final = final;
	q->fulltail = &q->full;
	q->pos = -1;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	for (int i = 0; i < QBLOCKS; i++) {
		struct qblock *b = mcr_xmalloc(sizeof(*b));

		b->next = q->free_;
		q->free_ = b;
	}
	q->off = mcr_cdr_offset(r);
	q->line = mcr_cdr_line(r);
	if (pthread_create(&q->th, NULL, producer, q) != 0) {
		mcr_warn("cannot start the reader thread");
		mcr_cdrq_close(q);
		return NULL;
	}
	q->started = 1;
	return q;
}

int
mcr_cdrq_next(struct mcr_cdrq *q, struct mcr_leg *l)
{
	struct qitem *it;

	for (;;) {
		if (q->cur != NULL && ++q->pos < q->cur->n)
			break;
		if (q->cur != NULL) {
			int last = q->cur->last;

			pthread_mutex_lock(&q->mu);
			q->cur->next = q->free_;
			q->free_ = q->cur;
			q->cur = NULL;
			pthread_cond_broadcast(&q->cv);
			pthread_mutex_unlock(&q->mu);
			if (last) {
				q->done = 1;
				return 0;
			}
		}
		if (q->done)
			return 0;
		pthread_mutex_lock(&q->mu);
		while (q->full == NULL)
			pthread_cond_wait(&q->cv, &q->mu);
		q->cur = q->full;
		q->full = q->cur->next;
		if (q->full == NULL)
			q->fulltail = &q->full;
		pthread_mutex_unlock(&q->mu);
		q->pos = -1;
	}
	it = &q->cur->item[q->pos];
	if (it->rc == -2)
		return -2;
	q->off = it->off;
	q->line = it->line;
	q->legoff = it->legoff;
	if (it->rc == 1)
		*l = it->leg;
	return it->rc;
}

int64_t
mcr_cdrq_offset(struct mcr_cdrq *q)
{
	return q->off;
}

int64_t
mcr_cdrq_line(struct mcr_cdrq *q)
{
	return q->line;
}

int64_t
mcr_cdrq_legoffset(struct mcr_cdrq *q)
{
	return q->legoff;
}

void
mcr_cdrq_close(struct mcr_cdrq *q)
{
	struct qblock *b, *n;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	if (q->started)
		pthread_join(q->th, NULL);
	for (b = q->free_; b != NULL; b = n) {
		n = b->next;
		free(b);
	}
	for (b = q->full; b != NULL; b = n) {
		n = b->next;
		free(b);
	}
	free(q->cur);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}
