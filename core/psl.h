/*
 * The Public Suffix List, the one service every check asks which part of a
 * name is registrable (dmarc, sender_domain, dbl). It is configured once,
 * by the [psl] section of checks.d, so the one setting reaches every user.
 */
#ifndef WHY550_PSL_H
#define WHY550_PSL_H

#include "core/conf.h"
#include "core/util.h"

/* A loaded list; the libpsl object never leaves core/psl.c. */
struct psl_service;

/*
 * The list the [psl] section of conf names ("file = PATH", a .dat or .dafsa
 * file; the last one wins), else the newest of the system's copy and
 * libpsl's built-in one. Every check that needs the list makes its own
 * from this one setting when it is configured; a user never calls libpsl.
 * NULL with err ("file:line: ...") for an unknown key, a label or a file
 * that cannot be read, or when libpsl has no list at all.
 */
struct psl_service *psl_service_new(const struct conf *conf, struct error *err);
void psl_service_free(struct psl_service *psl);

/* Where the list came from (for --list-checks): the file, or the default. */
const char *psl_service_source(const struct psl_service *psl);

/*
 * The registrable domain of name: its public suffix plus one label. libpsl
 * applies the "*" default rule, so a name under an unlisted suffix keeps
 * two labels ("a.b.test" gives "b.test"). A suffix of name itself
 * (borrowed), or NULL when name is a public suffix or has no registrable
 * part. name should be lower case without a final dot. Thread-safe.
 */
const char *psl_service_registrable(const struct psl_service *psl, const char *name);

/*
 * The organisational domain of name (RFC 7489 3.2): its registrable
 * domain, lower case without a final dot; name so normalised when it has
 * none (a public suffix). Fresh string. Thread-safe.
 */
char *psl_service_org_domain(const struct psl_service *psl, const char *name);

#endif
