/*
 * The dnsbl and dbl checks (checks/dnsbl/dnsbl.c): what they tell the rest
 * of the program besides their findings, the per-list entries of their
 * report data.
 */
#ifndef WHY550_DNSBL_H
#define WHY550_DNSBL_H

#include <stdbool.h>

#include "core/conf.h"

/*
 * What one subject's query to one list came to. In the report data the
 * status is the name dnsbl_status_name() gives; readers parse it back with
 * dnsbl_status_parse(), never compare the text.
 */
enum dnsbl_status {
	DNSBL_STATUS_LISTED = 0,	/* a documented listing code: "listed" */
	DNSBL_STATUS_NOT_LISTED,	/* no such name, or no address: "not_listed" */
	DNSBL_STATUS_REFUSED,		/* REFUSED, or a refused code: "refused" */
	DNSBL_STATUS_UNEXPECTED,	/* undocumented code, or tampering: "unexpected" */
	DNSBL_STATUS_ERROR,		/* the query failed (timeout, SERVFAIL): "error" */
	DNSBL_STATUS_IGNORED,		/* the list failed its self-test: "ignored" */
};

/* The status's name; "error" for a value out of range. Static. */
const char *dnsbl_status_name(enum dnsbl_status st);
/* 0 with *out set when s is a status's name; -1 (*out untouched) for anything else, NULL included. */
int dnsbl_status_parse(const char *s, enum dnsbl_status *out);

/*
 * True if key can be a Spamhaus Data Query Service key: one DNS label of
 * letters and digits (what [dnsbl] dqs_key, --dqs-key and WHY550_DQS_KEY
 * take). A caller that rejects a key never shows it.
 */
bool dnsbl_key_valid(const char *key);

/*
 * True if conf has a list (a [dnsbl "ZONE"] or [dbl "ZONE"] section) that
 * zone names, by its zone or its dqs_zone, in any case, with or without a
 * final dot: what skip_list and --skip-list accept.
 */
bool dnsbl_conf_names_list(const struct conf *conf, const char *zone);

/*
 * The report data of both checks holds "lists": an array with one entry
 * per subject asked of one list, whatever its status. src/verdict.c reads
 * these fields of an entry to check a list that a bounce names against
 * what the list says now (tests/test_verdict.c runs the real check into
 * the verdict, so a rename here fails there):
 *   "zone"        string   the list's zone, lower case, no final dot
 *   "kind"        string   the kind of subject, dnsbl_kind_name() of list.h:
 *                          "ip4", "ip6" or "domain"
 *   "status"      string   dnsbl_status_name() of the outcome
 *   "subject"     string   the IP or domain asked about
 *   "policy"      boolean  listed by policy codes only (end-user address
 *                          space, PBL-style): "do not send direct", not spam
 *   "delist_url"  string   the removal page (the list's delist_url with the
 *                          subject filled in, else a URL from its TXT), or null
 * The verdict also copies the whole entry into its evidence. The other
 * fields are for people and tools: "query" (a Data Query Service key shown
 * as DNSBL_KEY_SHOWN), "codes", "meanings", "txt", "txt_url", "weight",
 * "selftest", "reason", "source" (dbl: where the domain came from) and
 * "dns_status".
 *
 * A "listed" or "policy_listed" finding's data is the entry plus "meaning",
 * "score" and "threshold"; below the threshold the finding is a warning and
 * its data says "confidence": "medium", which the verdict takes as a ceiling
 * (a risk, not a block).
 *
 * The report data also holds "not_checked", always (empty when every list
 * answered): one entry per list that was not checked, which src/verdict.c
 * names in the verdict's note:
 *   "zone"    string   the list's zone
 *   "status"  string   "refused" (it refused, or refuses the public resolver
 *                      asked) or "skipped" (skip_list, --skip-list)
 *   "reason"  string   why, in words (a refused code's meaning)
 *   "fix"     string   how to have it checked
 * A refused list is a warning while a list of weight above 0 answered, and
 * an error (the check's, so the verdict is inconclusive) when none did.
 */

#endif
