/* Internal to the CDR readers (cdr.c, csvmap.c). */
#ifndef MCR_CDRINT_H
#define MCR_CDRINT_H

#include <stdarg.h>

enum {
	/* freepbx */
	C_CALLDATE, C_CLID, C_SRC, C_DST, C_DCONTEXT, C_CHANNEL, C_DSTCHANNEL,
	C_LASTAPP, C_DURATION, C_BILLSEC, C_DISPOSITION, C_UNIQUEID,
	C_LINKEDID, C_DID,
	/* twilio */
	C_SID, C_PARENT, C_FROM, C_TO, C_STATUS, C_DIRECTION, C_STARTTIME,
	C_ENDTIME, C_CALLERNAME, C_TWDURATION,
	CDR_NCOL
};

/* Room for the csv map's columns and their alternatives. */
#define CDR_MAXCOL	40

/* Report a bad row; -2 when it is the first row (wrong format), else -1. */
int	 cdr_bad(struct mcr_cdr *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
const char *cdr_field(struct mcr_cdr *, int);
int	 cdr_nfields(struct mcr_cdr *);
int	 cdr_when(struct mcr_cdr *, struct mcr_leg *, const char *, int64_t *,
	    const char *);
long	 cdr_hms(const char *);
const struct mcr_config *cdr_config(struct mcr_cdr *);
/* Leg string storage: 0 gkey, 1 caller, 2 called, 3 name. */
char	*cdr_scratch(struct mcr_cdr *, int, size_t *);
/* The mapped csv format: header row first, then legs. */
int	 cdr_parse_csv(struct mcr_cdr *, struct mcr_leg *);
/* The header-read flag and column indexes of the current file. */
int	*cdr_hdr(struct mcr_cdr *);
int	*cdr_cols(struct mcr_cdr *);
char	 cdr_csvmap_delim(const struct mcr_csvmap *);

#endif
