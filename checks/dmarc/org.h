/* Identifier alignment for DMARC through the Public Suffix List (RFC 7489 3.1). */
#ifndef WHY550_DMARC_ORG_H
#define WHY550_DMARC_ORG_H

#include <stdbool.h>

#include "core/psl.h"

/*
 * RFC 7489 3.1: identifier alignment of a (an authenticated domain) with b
 * (the From domain): strict means equal (ignoring case and a final dot),
 * relaxed means the same organisational domain (psl_service_org_domain).
 * Thread-safe.
 */
bool dmarc_aligned(const struct psl_service *psl, const char *a, const char *b, bool strict);

#endif
