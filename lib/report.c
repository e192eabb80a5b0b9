/*
 * The report's figures for a period, each with what it counts over what:
 * calls by local weekday and hour, outcomes, the recovery funnel, response
 * times, revenue and a forecast.  One pass over the period's calls (in
 * order of start, from its index) and a few aggregates over its cases.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "mcr.h"
#include "storeint.h"

/* Callers seen, for repeat callers: open addressing on a hash. */
struct seen {
	uint64_t h;
	time_t	 t[2];			/* the two calls before */
	int	 flagged;
};

struct seentab {
	struct seen *v;
	size_t	 n, cap;
};

static struct seen *
seen_get(struct seentab *s, const char *caller)
{
	uint64_t h = mcr_util_hash(caller, strlen(caller), 7) | 1;
	size_t i;

	if ((s->n + 1) * 10 > s->cap * 7) {
		struct seen *old = s->v;
		size_t ocap = s->cap;

		s->cap = ocap ? ocap * 2 : 4096;
		s->v = mcr_xcalloc(s->cap, sizeof(*s->v));
		s->n = 0;
		for (size_t k = 0; k < ocap; k++)
			if (old[k].h != 0) {
				i = (size_t)old[k].h & (s->cap - 1);
				while (s->v[i].h != 0)
					i = (i + 1) & (s->cap - 1);
				s->v[i] = old[k];
				s->n++;
			}
		free(old);
	}
	i = (size_t)h & (s->cap - 1);
	while (s->v[i].h != 0 && s->v[i].h != h)
		i = (i + 1) & (s->cap - 1);
	if (s->v[i].h == 0) {
		s->v[i].h = h;
		s->v[i].t[0] = s->v[i].t[1] = -1;
		s->n++;
	}
	return &s->v[i];
}

static int
calls_pass(struct mcr_store *st, struct mcr_tz *tz, struct mcr_report *r)
{
	sqlite3_stmt *s;
	struct seentab seen = { 0 };
	time_t hour0 = -1;
	int wd = 0, hr = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT started_at, missed, outcome, "
	    "after_hours, caller_type, caller FROM calls WHERE started_at >= "
	    "?1 AND started_at < ?2 AND direction = 'in' AND outcome IS NOT "
	    "NULL ORDER BY started_at", -1, &s, NULL) != SQLITE_OK)
		return store_failed(st, "read calls");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)r->from);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->to);
	while (sqlite3_step(s) == SQLITE_ROW) {
		time_t t = (time_t)sqlite3_column_int64(s, 0);
		int missed = sqlite3_column_int(s, 1), o;
		const char *out = (const char *)sqlite3_column_text(s, 2);
		const char *type = (const char *)sqlite3_column_text(s, 4);
		const char *caller = (const char *)sqlite3_column_text(s, 5);

		/* the local weekday and hour change once an hour at most */
		if (hour0 < 0 || t < hour0 || t >= hour0 + 3600) {
			struct tm tm;

			mcr_tz_tm(tz, t, &tm);
			wd = tm.tm_wday;
			hr = tm.tm_hour;
			hour0 = t - tm.tm_min * 60 - tm.tm_sec;
		}
		r->calls++;
		r->heat_calls[wd][hr]++;
		for (o = 0; o < MCR_OUT_N; o++)
			if (out != NULL && strcmp(out, mcr_outcome_name(o)) == 0)
				break;
		if (o < MCR_OUT_N)
			r->outcomes[o]++;
		if (o == MCR_OUT_ANSWERED)
			r->answered++;
		if (missed) {
			r->missed++;
			r->heat_missed[wd][hr]++;
			if (sqlite3_column_int(s, 3))
				r->after_hours++;
			if (type != NULL && strcmp(type, "withheld") == 0)
				r->withheld++;
			if (type != NULL && strcmp(type, "fixed") == 0)
				r->landline++;
		}
		if (caller != NULL) {
			struct seen *k = seen_get(&seen, caller);

			if (!k->flagged && k->t[0] >= 0 && t - k->t[0] <= 3600) {
				k->flagged = 1;
				r->repeat_callers++;
			}
			k->t[0] = k->t[1];
			k->t[1] = t;
		}
	}
	sqlite3_finalize(s);
	free(seen.v);
	return 0;
}

static long
one(struct mcr_store *st, const char *sql, time_t from, time_t to)
{
	sqlite3_stmt *s;
	long n = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_failed(st, "report");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)to);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* The cases opened in the period, and what became of them. */
static int
cases_pass(struct mcr_store *st, struct mcr_report *r)
{
	sqlite3_stmt *s;
	/* reached: the first message left; replied: the patient wrote */
	/*
	 * The response time runs from the last call before the message: a
	 * case's later calls do not count.
	 */
	static const char *q = "SELECT c.id, c.state, c.reason, coalesce(("
	    "SELECT max(started_at) FROM calls k WHERE k.case_id = c.id AND "
	    "k.started_at <= (SELECT min(sent_at) FROM messages m WHERE "
	    "m.case_id = c.id AND m.sent_at IS NOT NULL)), c.last_call_at), "
	    "(SELECT min(sent_at) FROM messages m WHERE m.case_id = c.id AND "
	    "(m.step = 'first' OR m.step = 'sms') AND m.sent_at IS NOT NULL), "
	    "(SELECT min(at) FROM transcript t WHERE t.case_id = c.id AND "
	    "t.dir = 'in'), (SELECT count(*) FROM bookings b WHERE b.case_id "
	    "= c.id AND b.status = 'booked'), (SELECT min(sent_at) FROM "
	    "messages m WHERE m.case_id = "
	    "c.id AND m.step GLOB 'f[0-9]*' AND m.sent_at IS NOT NULL) FROM "
	    "cases c WHERE c.opened_at >= ?1 AND c.opened_at < ?2 AND "
	    "c.caller_type != 'internal'";

	if (sqlite3_prepare_v2(st->db, q, -1, &s, NULL) != SQLITE_OK)
		return store_failed(st, "read cases");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)r->from);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->to);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 1);
		const char *reason = (const char *)sqlite3_column_text(s, 2);
		time_t last = (time_t)sqlite3_column_int64(s, 3);
		int sent = sqlite3_column_type(s, 4) != SQLITE_NULL;
		time_t at = (time_t)sqlite3_column_int64(s, 4);
		int replied = sqlite3_column_type(s, 5) != SQLITE_NULL;
		time_t rat = (time_t)sqlite3_column_int64(s, 5);
		int booked = sqlite3_column_int(s, 6) > 0;
		int fu = sqlite3_column_type(s, 7) != SQLITE_NULL;
		time_t fat = (time_t)sqlite3_column_int64(s, 7);

		r->cases++;
		if (strcmp(state, "skipped") == 0) {
			int k;

			for (k = 0; k < r->nskip; k++)
				if (strcmp(r->skip[k].reason, reason ? reason :
				    "") == 0)
					break;
			if (k == r->nskip && k < 24) {
				mcr_strlcpy(r->skip[k].reason, reason ? reason :
				    "", sizeof(r->skip[k].reason));
				r->nskip++;
			}
			if (k < 24)
				r->skip[k].n++;
		}
		if (strcmp(state, "resolved_by_call") == 0) {
			r->resolved++;
			if (reason != NULL && !sent)
				r->resolved_unmessaged++;
		}
		if (sent) {
			int b;
			long d = (long)(at - last);

			r->messaged++;
			b = d < 120 ? 0 : d < 600 ? 1 : d < 1800 ? 2 : 3;
			r->resp_messaged[b]++;
			if (booked)
				r->resp_booked[b]++;
		}
		/* the funnel follows the messaged; all bookings count below */
		if (replied && sent)
			r->replied++;
		if (booked && sent)
			r->booked_messaged++;
		if (booked) {
			r->booked++;
			/* a follow-up before the first reply brought them */
			if (fu && (!replied || fat < rat))
				r->booked_after_followup++;
		}
	}
	sqlite3_finalize(s);
	r->holdout = one(st, "SELECT count(*) FROM cases c WHERE c.opened_at "
	    ">= ?1 AND c.opened_at < ?2 AND EXISTS (SELECT 1 FROM case_events e "
	    "WHERE e.case_id = c.id AND e.state = 'skipped' AND e.reason = "
	    "'holdout')", r->from, r->to);
	r->holdout_resolved = one(st, "SELECT count(*) FROM cases c WHERE "
	    "c.opened_at >= ?1 AND c.opened_at < ?2 AND c.state = "
	    "'resolved_by_call' AND EXISTS (SELECT 1 FROM case_events e WHERE "
	    "e.case_id = c.id AND e.state = 'skipped' AND e.reason = "
	    "'holdout')", r->from, r->to);
	r->esc_urgent = one(st, "SELECT count(*) FROM escalations WHERE at >= "
	    "?1 AND at < ?2 AND urgent = 1", r->from, r->to);
	r->esc_other = one(st, "SELECT count(*) FROM escalations WHERE at >= "
	    "?1 AND at < ?2 AND urgent = 0", r->from, r->to);
	return r->holdout < 0 || r->holdout_resolved < 0 || r->esc_urgent < 0 ||
	    r->esc_other < 0 ? -1 : 0;
}

/* Next week's calls by weekday and hour: the mean of the last 4 weeks. */
static int
forecast(struct mcr_store *st, struct mcr_tz *tz, struct mcr_report *r)
{
	sqlite3_stmt *s;
	time_t from = r->to - 28 * 86400;
	long first = -1;

	if (sqlite3_prepare_v2(st->db, "SELECT started_at, missed FROM calls "
	    "WHERE started_at >= ?1 AND started_at < ?2 AND direction = 'in' "
	    "AND outcome IS NOT NULL ORDER BY started_at", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_failed(st, "read calls");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)(r->to - 56 * 86400));
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->to);
	while (sqlite3_step(s) == SQLITE_ROW) {
		time_t t = (time_t)sqlite3_column_int64(s, 0);
		struct tm tm;
		int w = (int)((r->to - 1 - t) / (7 * 86400));

		/* the weekly trend: week 7 is the one ending at to */
		if (w >= 0 && w < 8) {
			r->wk_calls[7 - w]++;
			if (sqlite3_column_int(s, 1))
				r->wk_missed[7 - w]++;
		}
		if (t < from)
			continue;
		if (first < 0)
			first = (long)t;
		mcr_tz_tm(tz, t, &tm);
		r->fc_calls[tm.tm_wday][tm.tm_hour]++;
		if (sqlite3_column_int(s, 1))
			r->fc_missed[tm.tm_wday][tm.tm_hour]++;
	}
	sqlite3_finalize(s);
	/* weeks of history there are, up to 4: no invented weeks */
	r->fc_weeks = first < 0 ? 0 : (int)((r->to - first + 7 * 86400 - 1) /
	    (7 * 86400));
	if (r->fc_weeks > 4)
		r->fc_weeks = 4;
	return 0;
}

int
mcr_report_make(struct mcr_store *st, const struct mcr_config *cfg,
    time_t from, time_t to, struct mcr_report *r)
{
	struct mcr_tz *tz;
	long top[168], cut;
	int n = 0;

	memset(r, 0, sizeof(*r));
	r->from = from;
	r->to = to;
	if ((tz = mcr_tz_open(cfg->timezone)) == NULL)
		return -1;
	if (mcr_store_begin(st) == -1) {
		mcr_tz_close(tz);
		return -1;
	}
	if (calls_pass(st, tz, r) == -1 || cases_pass(st, r) == -1 ||
	    forecast(st, tz, r) == -1) {
		mcr_store_rollback(st);
		mcr_tz_close(tz);
		return -1;
	}
	mcr_store_rollback(st);
	mcr_tz_close(tz);
	/* peak: the busiest quarter of the week's hours that had calls */
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++)
			if (r->heat_calls[d][h] > 0)
				top[n++] = r->heat_calls[d][h];
	cut = 0;
	if (n > 0) {
		/* the value at the 75th centile, by a small sort */
		for (int i = 1; i < n; i++)
			for (int j = i; j > 0 && top[j - 1] > top[j]; j--) {
				long x = top[j];

				top[j] = top[j - 1];
				top[j - 1] = x;
			}
		cut = top[(n * 3) / 4];
	}
	r->peak_cut = cut;
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++) {
			long c = r->heat_calls[d][h], m = r->heat_missed[d][h];

			if (c == 0)
				continue;
			if (c >= cut) {
				r->peak_calls += c;
				r->peak_missed += m;
			} else {
				r->off_calls += c;
				r->off_missed += m;
			}
			/* short cover: at least 3 calls, over the threshold */
			if (c >= 3 && m * 100 > c * cfg->short_cover &&
			    r->nshort < 168) {
				r->shortv[r->nshort].wday = d;
				r->shortv[r->nshort].hour = h;
				r->shortv[r->nshort].calls = c;
				r->shortv[r->nshort].missed = m;
				r->nshort++;
			}
		}
	r->value = cfg->appointment_value;
	r->baseline = cfg->callback_baseline;
	return 0;
}
