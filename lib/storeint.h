/* Internal to the store's modules (store.c, ingest.c). */
#ifndef MCR_STOREINT_H
#define MCR_STOREINT_H

#include <sqlite3.h>

struct mcr_store {
	sqlite3	*db;
	char	*path;
	int	 busy;
	int	 bulk;			/* checkpoints held until the batch ends */
	int	 dry;			/* a dry run */
	int	 depth;			/* transactions open, nested */
	int	 err;			/* SQLite's code of the last failure */
	sqlite3_stmt *st_fget, *st_fset, *st_optq, *st_opta, *st_optr, *st_pat;
};

/* Report the last error of the store; sets busy and errno; returns -1. */
int	 store_failed(struct mcr_store *, const char *what);
int	 store_exec(struct mcr_store *, const char *);
/* Prepare once into *cache, then reset and clear; NULL on error. */
sqlite3_stmt *store_prep(struct mcr_store *, sqlite3_stmt **, const char *);
/* The same for a statement whose every parameter is bound each time. */
sqlite3_stmt *store_prep_all(struct mcr_store *, sqlite3_stmt **,
	    const char *);

#endif
