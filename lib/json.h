/* JSON line writing helpers, part of libmcr (see mcr.h). */
#ifndef MCR_JSON_H
#define MCR_JSON_H

/*
 * Append to a record being built in b: the caller starts it with "{" and
 * ends it with "}\n".  Keys need no escaping (they are the contract's).
 */
void	 mcr_json_str(struct mcr_buf *, const char *);	/* NULL: null */
void	 mcr_json_key(struct mcr_buf *, const char *);
void	 mcr_json_kstr(struct mcr_buf *, const char *, const char *);
void	 mcr_json_kint(struct mcr_buf *, const char *, long long);
void	 mcr_json_kbool(struct mcr_buf *, const char *, int);
void	 mcr_json_knull(struct mcr_buf *, const char *);
/* t < 0: null; else RFC 3339 UTC. */
void	 mcr_json_ktime(struct mcr_buf *, const char *, long long);

#endif
