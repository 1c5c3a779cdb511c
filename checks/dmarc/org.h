/* The organisational domain and identifier alignment through the Public Suffix List (RFC 7489 3.1, 3.2). */
#ifndef WHY550_DMARC_ORG_H
#define WHY550_DMARC_ORG_H

#include <stdbool.h>
#include <stddef.h>

/* A Public Suffix List (libpsl); the libpsl object stays inside dmarc_org.c. */
struct dmarc_psl;

/*
 * Loads the list from file (a .dat or .dafsa file), or when file is NULL the
 * newest of the system's and libpsl's built-in list. NULL with why filled
 * when the file cannot be read.
 */
struct dmarc_psl *dmarc_psl_new(const char *file, char *why, size_t whylen);
void dmarc_psl_free(struct dmarc_psl *psl);

/*
 * The organisational domain of domain (RFC 7489 3.2: the public suffix plus
 * one label), lower case, no final dot; domain itself when it is a public
 * suffix or has no registrable part. Fresh string. Thread-safe.
 */
char *dmarc_org_domain(const struct dmarc_psl *psl, const char *domain);

/*
 * RFC 7489 3.1: identifier alignment of a (an authenticated domain) with b
 * (the From domain): strict means equal (ignoring case and a final dot),
 * relaxed means the same organisational domain.
 */
bool dmarc_aligned(const struct dmarc_psl *psl, const char *a, const char *b, bool strict);

#endif
