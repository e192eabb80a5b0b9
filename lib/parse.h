/*
 * parse.c: what a patient's reply means, deterministically.
 *
 * No I/O, no allocation, no state: the same text, button, offers, time and
 * zone always give the same reading.  Any bytes are accepted (invalid
 * UTF-8, NULL, empty, very long); only the first few hundred words are
 * read for meaning, every word for red flags.
 */
#ifndef MCR_PARSE_H
#define MCR_PARSE_H

#include "mcr.h"

enum mcr_intent {
	MCR_I_UNKNOWN,		/* not understood */
	MCR_I_YES,		/* yes / book / please */
	MCR_I_NO,		/* no thanks, not now */
	MCR_I_SLOT,		/* picks one of the offered slots: choice set */
	MCR_I_WHEN,		/* a day/time preference that picks no offered slot: when set */
	MCR_I_CANCEL,		/* cancel my appointment */
	MCR_I_RESCHEDULE,	/* move/change my appointment */
	MCR_I_CALLBACK,		/* please call me */
	MCR_I_OPTOUT,		/* whole-message STOP and friends */
	MCR_I_OPTIN,		/* START, UNSTOP (whole message) */
	MCR_I_HELP,		/* HELP, INFO (whole message) */
	MCR_I_QUESTION,		/* a question or anything clinical/complex for staff */
	MCR_I_URGENT		/* a red flag: never auto-booked */
};
#define MCR_I_N	(MCR_I_URGENT + 1)

/* An offered slot, as the conversation shows it to the patient. */
struct mcr_offer {
	const char *id;		/* button/list row id, e.g. "slot_42" */
	time_t	 start;		/* UTC */
};

/*
 * A day and time preference, as said; -1 in a field: not said.
 * A clock time said ("at 10", "10:30", "half 2") is at; from and to are
 * then the hour from it, so that a search of [from, to) finds slots near
 * it.  "any time" is from 0 to 1440.  "this week" alone adds nothing to
 * the soonest slots, so it reads as a plain yes.
 */
struct mcr_when {
	int	 days;		/* days from today (0 today, 1 tomorrow, ...) */
	int	 from, to;	/* minutes from local midnight, window [from, to) */
	int	 at;		/* a clock time said, minutes from midnight */
	int	 week;		/* 1: "next week" with no day said; else 0 */
};

struct mcr_reply {
	enum mcr_intent intent;
	int	 choice;	/* MCR_I_SLOT: index into the offers, 0-based; else -1 */
	struct mcr_when when;	/* whatever day or time was said, any intent */
	int	 urgent;	/* a red flag was found (intent is then MCR_I_URGENT) */
	char	 flag[40];	/* which red flag, for staff ("chest pain"), else "" */
};

/* Intent names for records: "unknown", "yes", ..., "urgent". */
const char *mcr_intent_name(enum mcr_intent);

/*
 * Parse a reply.  text: the message body (UTF-8, may be NULL); button: the id
 * of a tapped button or list row, or NULL; offers: the slots offered to
 * this patient (may be NULL with noffers 0); now and tz: for "today",
 * "tomorrow", weekday names (the next such day; today counts only when it
 * is that day and a time said is still ahead) and to compare times with
 * the offers in local time.  tz NULL: UTC.
 */
void	 mcr_parse_reply(const char *text, const char *button,
	    const struct mcr_offer *offers, int noffers, time_t now,
	    struct mcr_tz *tz, struct mcr_reply *);

#endif
