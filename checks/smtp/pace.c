/* The probe's manners: one connection at a time per MX address, an interval between them, a back-off after 421. */
#include "checks/smtp/pace.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

struct entry {
	char *key;
	bool busy;
	int64_t free_at;	/* the next connection may start then */
	int64_t backoff_until;	/* after a 421 */
};

struct smtp_pace {
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* on CLOCK_MONOTONIC, as now_ms() */
	struct entry *e;
	size_t n, max;
	int interval_ms, backoff_ms;
};

struct smtp_pace *
smtp_pace_new(int interval_ms, int backoff_ms, size_t max_keys)
{
	struct smtp_pace *p = xcalloc(1, sizeof(*p));
	pthread_condattr_t attr;

	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &attr);
	pthread_condattr_destroy(&attr);
	p->max = max_keys > 0 ? max_keys : 1;
	p->interval_ms = interval_ms;
	p->backoff_ms = backoff_ms;
	return p;
}

void
smtp_pace_free(struct smtp_pace *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->e[i].key);
	free(p->e);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

/* The entry of key, added if new; the table stays within max by forgetting the longest idle. */
static struct entry *
get(struct smtp_pace *p, const char *key, int64_t now)
{
	size_t i, victim = SIZE_MAX;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->e[i].key, key) == 0)
			return &p->e[i];
	if (p->n == p->max) {
		for (i = 0; i < p->n; i++)
			if (!p->e[i].busy && p->e[i].backoff_until <= now &&
			    (victim == SIZE_MAX || p->e[i].free_at < p->e[victim].free_at))
				victim = i;
		if (victim != SIZE_MAX) {
			free(p->e[victim].key);
			p->e[victim] = p->e[--p->n];
		}
	}
	/* every entry busy or backing off: grow rather than break a promise */
	if (p->n == p->max)
		p->max *= 2;
	p->e = xrealloc(p->e, p->max * sizeof(*p->e));
	memset(&p->e[p->n], 0, sizeof(p->e[p->n]));
	p->e[p->n].key = xstrdup(key);
	return &p->e[p->n++];
}

static void
wait_until(struct smtp_pace *p, int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	pthread_cond_timedwait(&p->cond, &p->lock, &ts);
}

enum smtp_pace_wait
smtp_pace_acquire(struct smtp_pace *p, const char *key, int64_t until_ms, int64_t *left_ms)
{
	enum smtp_pace_wait ret = SMTP_PACE_GO;
	struct entry *e;
	int64_t now;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		now = now_ms();
		/* the table may move while this thread waits: look the key up again */
		e = get(p, key, now);
		if (e->backoff_until > now) {
			*left_ms = e->backoff_until - now;
			ret = SMTP_PACE_BACKOFF;
			break;
		}
		if (!e->busy && e->free_at <= now) {
			e->busy = true;
			break;
		}
		if ((!e->busy && e->free_at > until_ms) || now >= until_ms) {
			ret = SMTP_PACE_LATE;
			break;
		}
		wait_until(p, e->busy || e->free_at > until_ms ? until_ms : e->free_at);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void
smtp_pace_release(struct smtp_pace *p, const char *key, bool said_421)
{
	struct entry *e;
	int64_t now;

	pthread_mutex_lock(&p->lock);
	now = now_ms();
	e = get(p, key, now);
	e->busy = false;
	e->free_at = now + p->interval_ms;
	if (said_421)
		e->backoff_until = now + p->backoff_ms;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}
