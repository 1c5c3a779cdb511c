/* Small helpers every module uses: fatal allocation wrappers, error reporting, clocks. */
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Held while a whole document or line is written, so an exit never cuts one. */
static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

void
output_begin(void)
{
	pthread_mutex_lock(&output_lock);
}

void
output_end(void)
{
	pthread_mutex_unlock(&output_lock);
}

/*
 * Prints the message and ends the process with EXIT_OSERR. A write in
 * progress finishes first (bounded: the thread that holds the lock may
 * be this one); buffered output is dropped, never flushed half-way, and
 * every writer flushes before output_end(), so nothing is lost but
 * what had not been written whole.
 */
static void __attribute__((noreturn))
die(const char *msg)
{
	struct timespec pause = { 0, 10 * 1000000L };
	int i;

	for (i = 0; i < 200 && pthread_mutex_trylock(&output_lock) != 0; i++)
		nanosleep(&pause, NULL);
	/* one write: the message stays whole beside other threads' */
	if (write(STDERR_FILENO, msg, strlen(msg)) < 0) {
		/* nothing left to tell it to */
	}
	_exit(EXIT_OSERR);
}

static void
die_oom(void)
{
	die("why550: out of memory\n");
}

/* Address space a process about to abort must still have for the abort to be a bug of its own. */
#define ABORT_PROBE	(256 * 1024)

/*
 * Libraries that cannot allocate do not return an error: ldns asserts,
 * GLib (GMime) and glibc's own internals abort. An abort when not even
 * ABORT_PROBE bytes of address space are left is the out of memory our
 * allocations report, and ends the same way; any other abort stays an
 * abort (abort() raises SIGABRT again once this returns).
 */
static void
on_abort(int sig)
{
	void *probe = mmap(NULL, ABORT_PROBE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)sig;
	if (probe == MAP_FAILED)
		die("why550: out of memory (in a library)\n");
	munmap(probe, ABORT_PROBE);
}

void
resource_watch_aborts(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_abort;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGABRT, &sa, NULL);
}

void
resource_check(int errnum, const char *fmt, ...)
{
	char what[256], msg[512];
	struct rlimit rl;
	va_list ap;

	if (errnum != EMFILE && errnum != ENFILE && errnum != ENOMEM && errnum != ENOBUFS)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (errnum == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		snprintf(msg, sizeof(msg), "why550: %s: out of file descriptors (the limit is %llu; "
		    "raise it with ulimit -n, or lower --jobs)\n", what,
		    (unsigned long long)rl.rlim_cur);
	else if (errnum == EMFILE || errnum == ENFILE)
		snprintf(msg, sizeof(msg), "why550: %s: out of file descriptors (%s)\n", what,
		    strerror(errnum));
	else
		snprintf(msg, sizeof(msg), "why550: %s: out of memory (%s)\n", what,
		    strerror(errnum));
	die(msg);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die_oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		die_oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die_oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		die_oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		die_oom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

int
error_set(struct error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
error(const char *fmt, ...)
{
	va_list ap;

	fputs("why550: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
str_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

char *
xstrdup_lower(const char *s)
{
	char *p = xstrdup(s);

	str_lower(p);
	return p;
}

int
name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

bool
domain_ends_with(const char *name, const char *suffix)
{
	size_t nl = strlen(name), sl = strlen(suffix);

	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (sl > 0 && suffix[sl - 1] == '.')
		sl--;
	if (sl == 0)
		return true;
	if (nl < sl)
		return false;
	if (strncasecmp(name + nl - sl, suffix, sl) != 0)
		return false;
	return nl == sl || name[nl - sl - 1] == '.';
}

void
strbuf_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void
strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	strbuf_init(sb);
}

static void
grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need <= sb->cap)
		return;
	if (sb->cap == 0)
		sb->cap = 64;
	while (sb->cap < need)
		sb->cap *= 2;
	sb->buf = xrealloc(sb->buf, sb->cap);
}

void
strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	grow(sb, len);
	if (len > 0)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void
strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *
strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *p;

	if (sb->buf == NULL)
		strbuf_add(sb, "", 0);
	p = sb->buf;
	if (len != NULL)
		*len = sb->len;
	strbuf_init(sb);
	return p;
}
