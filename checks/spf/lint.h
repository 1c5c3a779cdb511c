/* SPF record analysis: lint findings that receivers punish, and why an IP is not authorised, in words. */
#ifndef WHY550_SPF_LINT_H
#define WHY550_SPF_LINT_H

#include <jansson.h>
#include <stddef.h>

#include "checks/check.h"
#include "checks/spf/eval.h"

/*
 * Lints the published SPF record of domain, given as its TXT
 * character-strings: syntax error with its offset (spf_syntax_error),
 * "+all" (spf_all_pass), "?all" (spf_all_neutral), ptr (spf_ptr_used),
 * redirect beside all (spf_redirect_with_all), a string over 255 octets
 * (spf_string_too_long), a record over 512 octets (spf_record_too_long).
 * Adds findings to rep.
 */
void spf_lint_record(struct report *rep, const char *domain, const char *const *strings,
    const size_t *lens, size_t nstrings);

/*
 * Lints what an evaluation met: more than one record (spf_multiple_records),
 * DNS-querying terms at or over warn_at (spf_lookups_near_limit) or over
 * the limit (spf_lookups_over_limit), includes of names with no SPF record
 * (spf_include_no_record), void lookups over the limit (spf_void_lookups).
 */
void spf_lint_outcome(struct report *rep, const struct spf_outcome *out, int max_lookups,
    int warn_at);

/*
 * Why the IP (family, 4 or 16 bytes; a mapped IPv4 as AF_INET) is not
 * authorised: the networks the flattened include/redirect tree authorises
 * and the nearest miss. Returns a fresh sentence ("203.0.113.7 is in none
 * of: ip4:198.51.100.0/24, include:_spf.example.net → ip4:192.0.2.0/25;
 * nearest ...") and sets *data to a fresh object {"ip", "networks": [{"term",
 * "path", "network"}], "nearest": {...} or null}.
 */
char *spf_explain_miss(const struct spf_outcome *out, int family, const unsigned char *addr,
    json_t **data);

#endif
