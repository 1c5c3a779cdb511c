/* The set of one target's reports, through which report_peer() lets a check read the checks it runs after. */
#ifndef WHY550_REPORT_SET_H
#define WHY550_REPORT_SET_H

#include <stddef.h>

#include "checks/check.h"

/*
 * A set over n reports (the array is copied, the reports are borrowed and
 * must outlive the set). Give it to each report with report_set_peers().
 * NULL never.
 */
struct report_set *report_set_new(struct report **reports, size_t n);
/* Frees the set, not the reports. NULL is a no-op. */
void report_set_free(struct report_set *set);

#endif
