/*
 * The report written out: a period's name to its bounds, and the figures
 * as an aligned table, CSV, JSON or one self-contained HTML page.  Every
 * ratio carries its numerator and denominator; one over nothing is "n/a",
 * never a zero.
 */
#include <stdlib.h>
#include <string.h>

#include "mcr.h"
#include "json.h"

static const char *const wdname[7] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };

/* Local midnight of a civil day, in UTC. */
static time_t
midnight(struct mcr_tz *tz, int64_t day)
{
	int fl;

	return mcr_tz_local(tz, day * 86400, -1, &fl);
}

static int
civil(const char *s, int64_t *day)
{
	int y, m, d, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
	    (s[n] != '\0' && strncmp(s + n, "..", 2) != 0) || m < 1 ||
	    m > 12 || d < 1 || d > 31)
		return -1;
	*day = mcr_days_from_civil(y, m, d);
	/* the 31st of a short month is not a day */
	if (mcr_days_from_civil(y, m, 1) + d - 1 != *day || (m < 12 ?
	    mcr_days_from_civil(y, m + 1, 1) : mcr_days_from_civil(y + 1, 1,
	    1)) <= *day)
		return -1;
	return 0;
}

int
mcr_report_period(const char *p, const struct mcr_config *cfg, time_t now,
    time_t *from, time_t *to, char *label, size_t n)
{
	struct mcr_tz *tz = mcr_tz_open(cfg->timezone);
	struct tm tm;
	int64_t today, a, b;
	int mon;

	if (tz == NULL)
		return -1;
	mcr_tz_tm(tz, now, &tm);
	today = mcr_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday);
	mon = (tm.tm_wday + 6) % 7;		/* days since Monday */
	if (strcmp(p, "today") == 0) {
		a = today;
		b = today + 1;
	} else if (strcmp(p, "yesterday") == 0) {
		a = today - 1;
		b = today;
	} else if (strcmp(p, "this-week") == 0) {
		a = today - mon;
		b = today + 1;
	} else if (strcmp(p, "last-week") == 0) {
		a = today - mon - 7;
		b = today - mon;
	} else if (strcmp(p, "this-month") == 0) {
		a = today - (tm.tm_mday - 1);
		b = today + 1;
	} else if (strcmp(p, "last-month") == 0) {
		b = today - (tm.tm_mday - 1);
		a = tm.tm_mon == 0 ? mcr_days_from_civil(tm.tm_year + 1899, 12,
		    1) : mcr_days_from_civil(tm.tm_year + 1900, tm.tm_mon, 1);
	} else {
		const char *dots = strstr(p, "..");

		if (dots == NULL || civil(p, &a) == -1 ||
		    civil(dots + 2, &b) == -1 || b < a) {
			mcr_tz_close(tz);
			return -1;
		}
		b++;		/* the last day is in */
	}
	*from = midnight(tz, a);
	*to = midnight(tz, b);
	{
		struct tm x, y;
		time_t last = *to - 1;

		mcr_tz_tm(tz, *from, &x);
		mcr_tz_tm(tz, last, &y);
		snprintf(label, n, "%s%s%04d-%02d-%02d to %04d-%02d-%02d",
		    strstr(p, "..") ? "" : p, strstr(p, "..") ? "" : ": ",
		    x.tm_year + 1900, x.tm_mon + 1, x.tm_mday, y.tm_year + 1900,
		    y.tm_mon + 1, y.tm_mday);
	}
	mcr_tz_close(tz);
	return 0;
}

/* The figures, in order, each a number over another (or a count). */
enum fkind { F_COUNT, F_RATIO, F_MONEY, F_POINTS };

struct fig {
	const char *section, *name, *what;
	long	 num, den;
	double	 money;
	enum fkind kind;
};

static int
figures(const struct mcr_report *r, struct fig *v, char names[][48])
{
	int n = 0, k;
	long unrecovered = r->cases - r->booked - r->resolved;

#define ADD(s, nm, w, a, b, kd) do {					\
	v[n].section = (s); v[n].name = (nm); v[n].what = (w);		\
	v[n].num = (a); v[n].den = (b); v[n].kind = (kd); n++;		\
} while (0)
	ADD("calls", "calls", "inbound calls", r->calls, 0, F_COUNT);
	ADD("calls", "answered", "answered, of calls", r->answered, r->calls,
	    F_RATIO);
	ADD("calls", "missed", "missed, of calls", r->missed, r->calls,
	    F_RATIO);
	ADD("calls", "missed_peak", "missed in peak hours, of their calls",
	    r->peak_missed, r->peak_calls, F_RATIO);
	ADD("calls", "missed_off_peak", "missed off peak, of their calls",
	    r->off_missed, r->off_calls, F_RATIO);
	ADD("calls", "after_hours", "after hours, of missed calls",
	    r->after_hours, r->missed, F_RATIO);
	ADD("calls", "withheld", "withheld, of missed calls", r->withheld,
	    r->missed, F_RATIO);
	ADD("calls", "landline", "landlines, of missed calls", r->landline,
	    r->missed, F_RATIO);
	ADD("calls", "repeat_callers", "callers with 3 calls or more within "
	    "an hour", r->repeat_callers, 0, F_COUNT);
	for (k = 0; k < MCR_OUT_N; k++) {
		snprintf(names[k], 48, "outcome_%s", mcr_outcome_name(k));
		ADD("outcomes", names[k], mcr_outcome_name(k), r->outcomes[k],
		    r->calls, F_RATIO);
	}
	ADD("recovery", "cases", "missed callers (cases)", r->cases, 0,
	    F_COUNT);
	ADD("recovery", "messaged", "messaged, of cases", r->messaged,
	    r->cases, F_RATIO);
	ADD("recovery", "replied", "replied, of messaged", r->replied,
	    r->messaged, F_RATIO);
	ADD("recovery", "booked", "booked, of messaged", r->booked_messaged,
	    r->messaged, F_RATIO);
	for (k = 0; k < r->nskip; k++) {
		snprintf(names[MCR_OUT_N + k], 48, "skipped_%s",
		    r->skip[k].reason);
		ADD("recovery", names[MCR_OUT_N + k], names[MCR_OUT_N + k],
		    r->skip[k].n, r->cases, F_RATIO);
	}
	ADD("recovery", "recovery_rate", "booked, of cases", r->booked,
	    r->cases, F_RATIO);
	v[n].money = r->baseline;
	ADD("recovery", "baseline", "callers who call back unaided (per cent, "
	    "configured)", 0, 0, F_POINTS);
	ADD("recovery", "natural_callback", "got through by phone later, of "
	    "cases", r->resolved, r->cases, F_RATIO);
	ADD("recovery", "holdout_natural", "got through by phone later, of "
	    "the hold-out", r->holdout_resolved, r->holdout, F_RATIO);
	/* the true lift: what messaging did beyond calling back unaided */
	if (r->holdout > 0 && r->messaged > 0) {
		v[n].money = 100.0 * ((double)r->booked_messaged / r->messaged -
		    (double)r->holdout_resolved / r->holdout);
		ADD("recovery", "true_lift", "booked of messaged, less through "
		    "by phone of the hold-out (points)", 0, 0, F_POINTS);
	} else
		ADD("recovery", "true_lift", "booked of messaged, less through "
		    "by phone of the hold-out (no hold-out)", 0, 0, F_RATIO);
	ADD("response", "booked_under_2m", "booked, of those messaged within "
	    "2 minutes", r->resp_booked[0], r->resp_messaged[0], F_RATIO);
	ADD("response", "booked_2_10m", "booked, of those messaged in 2-10 "
	    "minutes", r->resp_booked[1], r->resp_messaged[1], F_RATIO);
	ADD("response", "booked_10_30m", "booked, of those messaged in 10-30 "
	    "minutes", r->resp_booked[2], r->resp_messaged[2], F_RATIO);
	ADD("response", "booked_over_30m", "booked, of those messaged after "
	    "30 minutes", r->resp_booked[3], r->resp_messaged[3], F_RATIO);
	ADD("response", "booked_after_followup", "bookings that came after a "
	    "follow-up, of bookings", r->booked_after_followup, r->booked,
	    F_RATIO);
	ADD("staff", "escalations_urgent", "urgent escalations",
	    r->esc_urgent, 0, F_COUNT);
	ADD("staff", "escalations_other", "other escalations", r->esc_other,
	    0, F_COUNT);
	v[n].money = (double)r->booked * r->value;
	ADD("revenue", "revenue_recovered", "bookings x appointment value",
	    r->booked, 0, F_MONEY);
	v[n].money = (double)(unrecovered > 0 ? unrecovered : 0) * r->value;
	ADD("revenue", "revenue_lost", "unbooked, not through x value",
	    unrecovered > 0 ? unrecovered : 0, 0, F_MONEY);
#undef ADD
	return n;
}

static void
pct(char *buf, size_t n, long num, long den)
{
	if (den <= 0)
		snprintf(buf, n, "n/a");
	else
		snprintf(buf, n, "%.1f%%", 100.0 * (double)num / (double)den);
}

static void
table(FILE *fp, const struct mcr_report *r, const struct mcr_config *cfg,
    const struct fig *v, int nf, const char *label)
{
	const char *sec = "";
	char p[16];
	int h0 = 24, h1 = -1;

	fprintf(fp, "%s, %s\n", cfg->name, label);
	for (int i = 0; i < nf; i++) {
		if (strcmp(sec, v[i].section) != 0) {
			sec = v[i].section;
			fprintf(fp, "\n%s\n", sec);
		}
		switch (v[i].kind) {
		case F_COUNT:
			fprintf(fp, "  %-62s %8ld\n", v[i].what, v[i].num);
			break;
		case F_RATIO:
			pct(p, sizeof(p), v[i].num, v[i].den);
			fprintf(fp, "  %-48s %6ld of %-6ld %7s\n", v[i].what,
			    v[i].num, v[i].den, p);
			break;
		case F_POINTS:
			fprintf(fp, "  %-62s %7.1f%%\n", v[i].what, v[i].money);
			break;
		case F_MONEY:
			fprintf(fp, "  %-48s %6ld    %s %9.2f\n", v[i].what,
			    v[i].num, cfg->currency, v[i].money);
			break;
		}
	}
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++)
			if (r->heat_calls[d][h] > 0) {
				h0 = h < h0 ? h : h0;
				h1 = h > h1 ? h : h1;
			}
	if (h1 >= 0) {
		fprintf(fp, "\nmissed calls by hour (local time; . none missed, "
		    "blank no calls)\n     ");
		for (int h = h0; h <= h1; h++)
			fprintf(fp, "%3d", h);
		fputc('\n', fp);
		for (int k = 1; k <= 7; k++) {
			struct mcr_buf row = { 0 };
			int d = k % 7;

			mcr_buf_printf(&row, "  %s", wdname[d]);
			for (int h = h0; h <= h1; h++)
				if (r->heat_calls[d][h] == 0)
					mcr_buf_puts(&row, "   ");
				else if (r->heat_missed[d][h] == 0)
					mcr_buf_puts(&row, "  .");
				else
					mcr_buf_printf(&row, "%3ld",
					    r->heat_missed[d][h]);
			while (row.len > 0 && row.s[row.len - 1] == ' ')
				row.len--;
			fprintf(fp, "%.*s\n", (int)row.len, row.s);
			mcr_buf_free(&row);
		}
	}
	fprintf(fp, "\nhours where cover is short (over %d%% missed, 3 calls "
	    "or more)\n", cfg->short_cover);
	if (r->nshort == 0)
		fprintf(fp, "  none\n");
	for (int i = 0; i < r->nshort; i++) {
		pct(p, sizeof(p), r->shortv[i].missed, r->shortv[i].calls);
		fprintf(fp, "  %s %02d:00  %ld of %ld missed (%s)\n",
		    wdname[r->shortv[i].wday], r->shortv[i].hour,
		    r->shortv[i].missed, r->shortv[i].calls, p);
	}
	fprintf(fp, "\nnext week, expected calls (missed) by day, from %d "
	    "week%s of history\n", r->fc_weeks, r->fc_weeks == 1 ? "" : "s");
	if (r->fc_weeks == 0)
		fprintf(fp, "  no history to forecast from\n");
	else
		for (int k = 1; k <= 7; k++) {
			int d = k % 7;
			long c = 0, m = 0;

			for (int h = 0; h < 24; h++) {
				c += r->fc_calls[d][h];
				m += r->fc_missed[d][h];
			}
			fprintf(fp, "  %s %6.1f (%5.1f)\n", wdname[d],
			    (double)c / r->fc_weeks, (double)m / r->fc_weeks);
		}
}

static void
csv(FILE *fp, const struct mcr_report *r, const struct fig *v, int nf)
{
	fprintf(fp, "section,name,numerator,denominator,value\n");
	for (int i = 0; i < nf; i++) {
		fprintf(fp, "%s,%s,%ld,", v[i].section, v[i].name, v[i].num);
		if (v[i].kind == F_RATIO)
			fprintf(fp, "%ld,", v[i].den);
		else
			fprintf(fp, ",");
		if (v[i].kind == F_RATIO && v[i].den > 0)
			fprintf(fp, "%.4f\n", (double)v[i].num / v[i].den);
		else if (v[i].kind == F_MONEY || v[i].kind == F_POINTS)
			fprintf(fp, "%.2f\n", v[i].money);
		else if (v[i].kind == F_COUNT)
			fprintf(fp, "%ld\n", v[i].num);
		else
			fprintf(fp, "\n");
	}
	for (int k = 1; k <= 7; k++)
		for (int h = 0; h < 24; h++)
			if (r->heat_calls[k % 7][h] > 0)
				fprintf(fp, "heatmap,%s %02d,%ld,%ld,%.4f\n",
				    wdname[k % 7], h, r->heat_missed[k % 7][h],
				    r->heat_calls[k % 7][h],
				    (double)r->heat_missed[k % 7][h] /
				    r->heat_calls[k % 7][h]);
	for (int k = 1; k <= 7 && r->fc_weeks > 0; k++)
		for (int h = 0; h < 24; h++)
			if (r->fc_calls[k % 7][h] > 0)
				fprintf(fp, "forecast,%s %02d,%ld,%d,%.2f\n",
				    wdname[k % 7], h, r->fc_calls[k % 7][h],
				    r->fc_weeks, (double)r->fc_calls[k % 7][h] /
				    r->fc_weeks);
}

static void
json(FILE *fp, const struct mcr_report *r, const struct mcr_config *cfg,
    const struct fig *v, int nf, const char *label)
{
	struct mcr_buf b = { 0 };

	mcr_buf_puts(&b, "{");
	mcr_json_kstr(&b, "type", "report");
	mcr_json_knull(&b, "id");
	mcr_json_kstr(&b, "practice", cfg->name);
	mcr_json_kstr(&b, "period", label);
	mcr_json_ktime(&b, "from", r->from);
	mcr_json_ktime(&b, "to", r->to);
	mcr_json_kbool(&b, "empty", r->calls == 0 && r->cases == 0);
	mcr_json_key(&b, "figures");
	mcr_buf_puts(&b, "{");
	for (int i = 0; i < nf; i++) {
		mcr_json_key(&b, v[i].name);
		mcr_buf_puts(&b, "{");
		mcr_json_kint(&b, "num", v[i].num);
		if (v[i].kind == F_RATIO)
			mcr_json_kint(&b, "den", v[i].den);
		else
			mcr_json_knull(&b, "den");
		mcr_json_key(&b, "value");
		if (v[i].kind == F_RATIO && v[i].den > 0)
			mcr_buf_printf(&b, "%.4f", (double)v[i].num / v[i].den);
		else if (v[i].kind == F_MONEY || v[i].kind == F_POINTS)
			mcr_buf_printf(&b, "%.2f", v[i].money);
		else if (v[i].kind == F_COUNT)
			mcr_buf_printf(&b, "%ld", v[i].num);
		else
			mcr_buf_puts(&b, "null");
		mcr_json_kstr(&b, "what", v[i].what);
		mcr_buf_puts(&b, "}");
	}
	mcr_buf_puts(&b, "}");
	mcr_json_key(&b, "heatmap");
	mcr_buf_puts(&b, "[");
	for (int k = 1, first = 1; k <= 7; k++)
		for (int h = 0; h < 24; h++)
			if (r->heat_calls[k % 7][h] > 0) {
				mcr_buf_printf(&b, "%s{\"day\":\"%s\",\"hour\":%d,"
				    "\"calls\":%ld,\"missed\":%ld}", first ? "" :
				    ",", wdname[k % 7], h, r->heat_calls[k % 7][h],
				    r->heat_missed[k % 7][h]);
				first = 0;
			}
	mcr_buf_puts(&b, "]");
	mcr_json_key(&b, "short_cover");
	mcr_buf_puts(&b, "[");
	for (int i = 0; i < r->nshort; i++)
		mcr_buf_printf(&b, "%s{\"day\":\"%s\",\"hour\":%d,\"calls\":%ld,"
		    "\"missed\":%ld}", i ? "," : "", wdname[r->shortv[i].wday],
		    r->shortv[i].hour, r->shortv[i].calls, r->shortv[i].missed);
	mcr_buf_puts(&b, "]");
	mcr_json_kint(&b, "forecast_weeks", r->fc_weeks);
	mcr_json_key(&b, "forecast");
	mcr_buf_puts(&b, "[");
	for (int k = 1, first = 1; k <= 7 && r->fc_weeks > 0; k++)
		for (int h = 0; h < 24; h++)
			if (r->fc_calls[k % 7][h] > 0) {
				mcr_buf_printf(&b, "%s{\"day\":\"%s\",\"hour\":%d,"
				    "\"calls\":%.2f,\"missed\":%.2f}", first ? "" :
				    ",", wdname[k % 7], h, (double)
				    r->fc_calls[k % 7][h] / r->fc_weeks, (double)
				    r->fc_missed[k % 7][h] / r->fc_weeks);
				first = 0;
			}
	mcr_buf_puts(&b, "]");
	mcr_json_key(&b, "weeks");
	mcr_buf_puts(&b, "[");
	for (int w = 0; w < 8; w++)
		mcr_buf_printf(&b, "%s{\"calls\":%ld,\"missed\":%ld}", w ? "," :
		    "", r->wk_calls[w], r->wk_missed[w]);
	mcr_buf_puts(&b, "]}\n");
	fwrite(b.s, 1, b.len, fp);
	mcr_buf_free(&b);
}

/* Text for HTML. */
static void
esc(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '&':
			fputs("&amp;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		default:
			fputc(*s, fp);
		}
}

/* A horizontal bar chart in SVG: labels, values, the largest scaled. */
static void
bars(FILE *fp, const char *title, const char *const *lab, const long *val,
    const long *of, int n)
{
	long max = 1;

	for (int i = 0; i < n; i++)
		if (val[i] > max)
			max = val[i];
	fprintf(fp, "<h2>");
	esc(fp, title);
	fprintf(fp, "</h2>\n<svg viewBox=\"0 0 360 %d\" role=\"img\">\n",
	    n * 26 + 4);
	for (int i = 0; i < n; i++) {
		double w = 150.0 * (double)val[i] / (double)max;
		char p[16];

		pct(p, sizeof(p), val[i], of ? of[i] : 0);
		fprintf(fp, "<text x=\"0\" y=\"%d\">", i * 26 + 17);
		esc(fp, lab[i]);
		fprintf(fp, "</text><rect x=\"110\" y=\"%d\" width=\"%.1f\" "
		    "height=\"20\" class=\"bar\"/><text x=\"%.1f\" y=\"%d\">"
		    "%ld%s%s%s</text>\n", i * 26 + 3, w, 114 + w, i * 26 + 17,
		    val[i], of ? " (" : "", of ? p : "", of ? ")" : "");
	}
	fprintf(fp, "</svg>\n");
}

static void
html(FILE *fp, const struct mcr_report *r, const struct mcr_config *cfg,
    const struct fig *v, int nf, const char *label)
{
	static const char *const fl[] = { "cases", "messaged", "replied",
	    "booked" };
	static const char *const rl[] = { "under 2 min", "2-10 min",
	    "10-30 min", "over 30 min" };
	static const char *const wl[] = { "7 weeks before", "6 weeks before",
	    "5 weeks before", "4 weeks before", "3 weeks before",
	    "2 weeks before", "the week before", "the last 7 days" };
	long fv[4] = { r->cases, r->messaged, r->replied, r->booked_messaged };
	long fo[4] = { r->cases, r->cases, r->messaged, r->messaged };
	int h0 = 24, h1 = -1;
	char p[16];

	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta "
	    "charset=\"utf-8\"><meta name=\"viewport\" content=\""
	    "width=device-width, initial-scale=1\"><title>");
	esc(fp, cfg->name);
	fprintf(fp, ": missed calls</title><style>\n"
	    "body{font-family:system-ui,sans-serif;margin:1em auto;"
	    "max-width:44em;padding:0 1em;color:#222}\n"
	    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}\n"
	    "table{border-collapse:collapse;width:100%%}\n"
	    "td,th{padding:.25em .4em;border-bottom:1px solid #ddd;"
	    "text-align:left}td.n{text-align:right}\n"
	    "svg{width:100%%;height:auto;font-size:11px}\n"
	    ".bar{fill:#2a7ab0}.k{display:flex;flex-wrap:wrap;gap:1em}\n"
	    ".k div{flex:1 1 8em;background:#f3f6f9;padding:.6em;"
	    "border-radius:.4em}.k b{display:block;font-size:1.5em}\n"
	    "</style></head><body>\n<h1>");
	esc(fp, cfg->name);
	fprintf(fp, ": missed calls and what came back</h1>\n<p>");
	esc(fp, label);
	fprintf(fp, "</p>\n");
	if (r->calls == 0 && r->cases == 0) {
		fprintf(fp, "<p>No calls and no cases in this period: nothing "
		    "to report.</p></body></html>\n");
		return;
	}
	pct(p, sizeof(p), r->missed, r->calls);
	fprintf(fp, "<div class=\"k\"><div><b>%ld</b>calls</div><div><b>%ld"
	    "</b>missed (%s)</div><div><b>%ld</b>booked by message</div>"
	    "<div><b>%s %.0f</b>recovered</div></div>\n", r->calls,
	    r->missed, p, r->booked, cfg->currency, (double)r->booked *
	    r->value);
	/* the heatmap: a cell per local weekday and hour with calls */
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++)
			if (r->heat_calls[d][h] > 0) {
				h0 = h < h0 ? h : h0;
				h1 = h > h1 ? h : h1;
			}
	if (h1 >= 0) {
		int cols = h1 - h0 + 1;

		fprintf(fp, "<h2>Missed calls by hour</h2>\n<svg viewBox=\"0 0 "
		    "%d 190\" role=\"img\">\n", 40 + cols * 24);
		for (int h = h0; h <= h1; h++)
			fprintf(fp, "<text x=\"%d\" y=\"12\">%02d</text>",
			    40 + (h - h0) * 24 + 4, h);
		for (int k = 1; k <= 7; k++) {
			int d = k % 7, y = 18 + (k - 1) * 24;

			fprintf(fp, "\n<text x=\"0\" y=\"%d\">%s</text>",
			    y + 15, wdname[d]);
			for (int h = h0; h <= h1; h++) {
				long c = r->heat_calls[d][h],
				    m = r->heat_missed[d][h];
				double f = c ? (double)m / c : 0;

				if (c == 0)
					continue;
				fprintf(fp, "<rect x=\"%d\" y=\"%d\" width="
				    "\"22\" height=\"22\" fill=\"rgb(%d,%d,%d)"
				    "\"><title>%s %02d:00: %ld of %ld missed"
				    "</title></rect>", 40 + (h - h0) * 24, y,
				    255, (int)(235 - 180 * f), (int)(200 -
				    180 * f), wdname[d], h, m, c);
				if (m > 0)
					fprintf(fp, "<text x=\"%d\" y=\"%d\">"
					    "%ld</text>", 40 + (h - h0) * 24 + 5,
					    y + 15, m);
			}
		}
		fprintf(fp, "\n</svg>\n");
	}
	bars(fp, "Recovery funnel", fl, fv, fo, 4);
	bars(fp, "Booked by how soon the message went", rl, r->resp_booked,
	    r->resp_messaged, 4);
	bars(fp, "Missed calls by week", wl, r->wk_missed, r->wk_calls, 8);
	fprintf(fp, "<h2>Every figure</h2>\n<table><tr><th>figure</th>"
	    "<th>count</th><th>of</th><th>rate</th></tr>\n");
	for (int i = 0; i < nf; i++) {
		fprintf(fp, "<tr><td>");
		esc(fp, v[i].what);
		if (v[i].kind == F_RATIO) {
			pct(p, sizeof(p), v[i].num, v[i].den);
			fprintf(fp, "</td><td class=\"n\">%ld</td><td class="
			    "\"n\">%ld</td><td class=\"n\">%s</td></tr>\n",
			    v[i].num, v[i].den, p);
		} else if (v[i].kind == F_MONEY)
			fprintf(fp, "</td><td class=\"n\">%ld</td><td></td>"
			    "<td class=\"n\">%s %.2f</td></tr>\n", v[i].num,
			    cfg->currency, v[i].money);
		else if (v[i].kind == F_POINTS)
			fprintf(fp, "</td><td></td><td></td><td class=\"n\">"
			    "%.1f%%</td></tr>\n", v[i].money);
		else
			fprintf(fp, "</td><td class=\"n\">%ld</td><td></td>"
			    "<td></td></tr>\n", v[i].num);
	}
	fprintf(fp, "</table>\n<h2>Hours where cover is short</h2>\n<p>");
	if (r->nshort == 0)
		fprintf(fp, "None: no hour missed more than %d%% of 3 calls or "
		    "more.", cfg->short_cover);
	for (int i = 0; i < r->nshort; i++) {
		pct(p, sizeof(p), r->shortv[i].missed, r->shortv[i].calls);
		fprintf(fp, "%s%s %02d:00 (%ld of %ld, %s)", i ? "; " : "",
		    wdname[r->shortv[i].wday], r->shortv[i].hour,
		    r->shortv[i].missed, r->shortv[i].calls, p);
	}
	fprintf(fp, "</p>\n</body></html>\n");
}

void
mcr_report_write(FILE *fp, const struct mcr_report *r,
    const struct mcr_config *cfg, const char *format, const char *label)
{
	struct fig v[96];
	char names[MCR_OUT_N + 24][48];
	int nf;

	if (r->calls == 0 && r->cases == 0 && strcmp(format, "table") == 0) {
		fprintf(fp, "%s, %s\nNo calls and no cases in this period: "
		    "nothing to report.\n", cfg->name, label);
		return;
	}
	nf = figures(r, v, names);
	if (strcmp(format, "csv") == 0)
		csv(fp, r, v, nf);
	else if (strcmp(format, "json") == 0)
		json(fp, r, cfg, v, nf, label);
	else if (strcmp(format, "html") == 0)
		html(fp, r, cfg, v, nf, label);
	else
		table(fp, r, cfg, v, nf, label);
}
