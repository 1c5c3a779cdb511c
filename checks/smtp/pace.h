/*
 * The probe's manners across all targets of a run (batch mode runs many
 * at once): at most one connection at a time to an MX address, a minimum
 * interval between connections to it, and an address that answered 421
 * left alone for a while. Shared by every thread of the run.
 */
#ifndef WHY550_SMTP_PACE_H
#define WHY550_SMTP_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What smtp_pace_acquire() gave. */
enum smtp_pace_wait {
	SMTP_PACE_GO = 0,	/* the address is held: connect, then release it */
	SMTP_PACE_BACKOFF,	/* it said 421 a short while ago: leave it alone */
	SMTP_PACE_LATE,		/* its turn comes after the caller's deadline */
};

struct smtp_pace;

/*
 * interval_ms between the end of one connection to an address and the
 * start of the next (0: none), backoff_ms after a 421; at most max_keys
 * addresses remembered (the longest idle are forgotten first).
 */
struct smtp_pace *smtp_pace_new(int interval_ms, int backoff_ms, size_t max_keys);
void smtp_pace_free(struct smtp_pace *p);

/*
 * Waits until no other connection to key (an address) is open and its
 * interval has passed, then holds it. Blocks at most until until_ms (a
 * now_ms() time). SMTP_PACE_BACKOFF sets *left_ms to the back-off left.
 */
enum smtp_pace_wait smtp_pace_acquire(struct smtp_pace *p, const char *key, int64_t until_ms,
    int64_t *left_ms);

/* Lets key go after a connection that acquire gave; said_421 starts its back-off. */
void smtp_pace_release(struct smtp_pace *p, const char *key, bool said_421);

#endif
