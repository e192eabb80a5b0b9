/* Message kinds, their built-in texts per clinic type, and rendering. */
#include <string.h>

#include "mcr.h"

static const char *const kinds[MCR_K_N] = {
	"recovery", "after_hours", "patient", "sms", "followup", "offer",
	"booking", "escalation", "urgent", "optout", "optin", "help",
	"declined", "clarify", "followup_closed", "taken"
};

/* Texts that differ by clinic type: dental, gp, specialist, physio. */
static const char *const texts[5][4] = {
	[MCR_K_RECOVERY] = {
		"Sorry we missed your call at {practice}. Reply YES and we'll "
		"find you an appointment, or tell us what you need.",
		"Sorry we missed your call to {practice}. Reply YES and we'll "
		"help you book an appointment. Please don't send medical "
		"details here.",
		"Sorry we missed your call at {practice}. Reply YES and we'll "
		"help you arrange a consultation.",
		"Sorry we missed your call at {practice}. Reply YES and we'll "
		"find you a session.",
	},
	[MCR_K_AFTER_HOURS] = {
		"Thanks for calling {practice}. We're closed now and open "
		"again {opens}. Reply YES and we'll find you an appointment. "
		"{emergency}",
		"Thanks for calling {practice}. We're closed now and open "
		"again {opens}. Reply YES and we'll help you book. "
		"{emergency}",
		"Thanks for calling {practice}. We're closed now and open "
		"again {opens}. Reply YES and we'll help you arrange a "
		"consultation. {emergency}",
		"Thanks for calling {practice}. We're closed now and open "
		"again {opens}. Reply YES and we'll find you a session. "
		"{emergency}",
	},
	[MCR_K_PATIENT] = {
		"Hi {name}, sorry we missed your call at {practice}. Reply YES "
		"and we'll find you a time for your {recall}.",
		"Hi {name}, sorry we missed your call to {practice}. Reply YES "
		"and we'll help you book your {recall}.",
		"Hi {name}, sorry we missed your call at {practice}. Reply YES "
		"and we'll help you arrange your {recall}.",
		"Hi {name}, sorry we missed your call at {practice}. Reply YES "
		"and we'll find you a time for your {recall}.",
	},
	[MCR_K_SMS] = {
		"Sorry we missed your call at {practice}. Reply YES and we'll "
		"find you an appointment. Reply STOP to opt out.",
		"Sorry we missed your call to {practice}. Reply YES and we'll "
		"help you book. Reply STOP to opt out.",
		"Sorry we missed your call at {practice}. Reply YES and we'll "
		"help you arrange a consultation. Reply STOP to opt out.",
		"Sorry we missed your call at {practice}. Reply YES and we'll "
		"find you a session. Reply STOP to opt out.",
	},
	[MCR_K_FOLLOWUP] = {
		"Just checking in from {practice}: we're still happy to help "
		"you book. Reply YES and we'll find you a time. We're here "
		"until {closes} today.",
		"Just checking in from {practice}: we're still happy to help "
		"you book. Reply YES and we'll find you a time. We're here "
		"until {closes} today.",
		"Just checking in from {practice}: we're still happy to help "
		"you arrange a consultation. Reply YES. We're here until "
		"{closes} today.",
		"Just checking in from {practice}: we're still happy to help "
		"you book a session. Reply YES. We're here until {closes} "
		"today.",
	},
};

static const char *const common[MCR_K_N] = {
	[MCR_K_OFFER] = "We can see you at {slots}. Reply with the number of "
	    "the time that suits you.",
	[MCR_K_BOOKING] = "You're booked at {practice}: {slots}. If you can't "
	    "make it, just tell us here.",
	[MCR_K_ESCALATION] = "Thank you. Someone from {practice} will get "
	    "back to you shortly.",
	[MCR_K_URGENT] = "{emergency} Someone from {practice} will contact "
	    "you as soon as possible.",
	[MCR_K_OPTOUT] = "You won't get any more messages from {practice}. "
	    "Reply START if you change your mind.",
	[MCR_K_OPTIN] = "Thank you: {practice} can message you again. Reply "
	    "YES to book.",
	[MCR_K_HELP] = "This is {practice}'s booking line. Reply YES to book, "
	    "a day and time that suits you, or STOP to opt out. {emergency}",
	[MCR_K_DECLINED] = "No problem. If you need us, reply here or call "
	    "{practice}.",
	[MCR_K_CLARIFY] = "Sorry, we didn't catch that. Reply YES to book, or "
	    "tell us a day and time that suits you.",
	[MCR_K_FOLLOWUP_CLOSED] = "Just checking in from {practice}: we're "
	    "still happy to help you book. Reply YES and we'll find you a "
	    "time. We open again {opens}.",
	[MCR_K_TAKEN] = "Sorry, that time has just been taken. We can see "
	    "you at {slots}. Reply with the number of the time that suits "
	    "you.",
};

/* The template parameters each kind takes unless the config says. */
static const char *const defparams[MCR_K_N] = {
	[MCR_K_RECOVERY] = "practice",
	[MCR_K_AFTER_HOURS] = "practice,opens",
	[MCR_K_PATIENT] = "name,practice,recall",
	[MCR_K_FOLLOWUP] = "practice,closes",
	[MCR_K_BOOKING] = "practice,slots",
	[MCR_K_ESCALATION] = "practice",
	[MCR_K_URGENT] = "emergency,practice",
	[MCR_K_OPTOUT] = "practice",
	[MCR_K_OPTIN] = "practice",
	[MCR_K_HELP] = "practice,emergency",
	[MCR_K_DECLINED] = "practice",
	[MCR_K_FOLLOWUP_CLOSED] = "practice,opens",
};

const char *
mcr_kind_name(enum mcr_kind k)
{
	return kinds[k];
}

int
mcr_kind_byname(const char *s)
{
	for (int k = 0; k < MCR_K_N; k++)
		if (strcmp(s, kinds[k]) == 0)
			return k;
	return -1;
}

const char *
mcr_tpl_emergency(enum mcr_clinic t)
{
	switch (t) {
	case MCR_DENTAL:
		return "For urgent dental pain while we're closed, call NHS "
		    "111. In an emergency, call 999.";
	case MCR_PHYSIO:
		return "If you need medical help fast, call 111. In an "
		    "emergency, call 999.";
	default:
		return "If you need medical help fast, use 111.nhs.uk or call "
		    "111. In an emergency, call 999.";
	}
}

const char *
mcr_tpl_text(const struct mcr_config *c, enum mcr_kind k)
{
	if (c->tpl[k].text != NULL)
		return c->tpl[k].text;
	if (k < 5)
		return texts[k][c->type];
	return common[k];
}

const struct mcr_list *
mcr_tpl_params(const struct mcr_config *c, enum mcr_kind k)
{
	static struct mcr_list def[MCR_K_N];
	static char *v[MCR_K_N][4];
	static char buf[MCR_K_N][64];

	if (c->tpl[k].params_set)
		return &c->tpl[k].params;
	if (def[k].v == NULL && defparams[k] != NULL) {
		char *p = buf[k], *tok;

		mcr_strlcpy(buf[k], defparams[k], sizeof(buf[k]));
		def[k].v = v[k];
		while ((tok = strsep(&p, ",")) != NULL && def[k].n < 4)
			v[k][def[k].n++] = tok;
	}
	return &def[k];
}

const char *
mcr_vars_get(const struct mcr_vars *v, const char *name)
{
	static const struct {
		const char *name;
		size_t	 off;
	} tab[] = {
		{ "practice", offsetof(struct mcr_vars, practice) },
		{ "name", offsetof(struct mcr_vars, name) },
		{ "first_name", offsetof(struct mcr_vars, first_name) },
		{ "recall", offsetof(struct mcr_vars, recall) },
		{ "opens", offsetof(struct mcr_vars, opens) },
		{ "closes", offsetof(struct mcr_vars, closes) },
		{ "time", offsetof(struct mcr_vars, time) },
		{ "emergency", offsetof(struct mcr_vars, emergency) },
		{ "slots", offsetof(struct mcr_vars, slots) },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(name, tab[i].name) == 0) {
			const char *s = *(const char *const *)(const void *)
			    ((const char *)v + tab[i].off);

			return s != NULL ? s : "";
		}
	return NULL;
}

int
mcr_tpl_render(const char *text, const struct mcr_vars *v, struct mcr_buf *b,
    char *bad, size_t badsz)
{
	const char *p = text, *q, *val;
	char name[32];
	size_t n;

	while ((q = strchr(p, '{')) != NULL) {
		mcr_buf_add(b, p, (size_t)(q - p));
		n = strspn(q + 1, "abcdefghijklmnopqrstuvwxyz_");
		if (n == 0 || q[1 + n] != '}' || n >= sizeof(name)) {
			mcr_buf_add(b, "{", 1);
			p = q + 1;
			continue;
		}
		memcpy(name, q + 1, n);
		name[n] = '\0';
		if ((val = mcr_vars_get(v, name)) == NULL) {
			mcr_strlcpy(bad, name, badsz);
			return -1;
		}
		mcr_buf_puts(b, val);
		p = q + n + 2;
	}
	mcr_buf_puts(b, p);
	return 0;
}
