/* Small helpers every module uses: fatal allocation wrappers, error reporting, clocks. */
#ifndef WHY550_UTIL_H
#define WHY550_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation that never returns NULL: out of memory prints and aborts. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh heap string owned by the caller. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A message buffer for functions that report a problem to a caller that
 * decides how to show it (configuration, argument validation).
 */
struct error {
	char msg[512];
};

/* Fills err (if not NULL) and returns -1. */
int error_set(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "why550: <msg>" to stderr once and returns -1. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic clock in milliseconds. */
int64_t now_ms(void);

/* ASCII lower-casing into a fresh string / in place. */
char *xstrdup_lower(const char *s);
void str_lower(char *s);

/*
 * The index of s in the name table names[0..n-1] (NULL entries match
 * nothing), or -1; s may be NULL. For the parse side of an enum's names.
 */
int name_index(const char *const *names, size_t n, const char *s);

/* Case-insensitive ASCII suffix test on whole labels: "a.b.example" ends in "example". */
bool domain_ends_with(const char *name, const char *suffix);

/* A growable byte string; always NUL-terminated after any append. */
struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};
void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the buffer to the caller and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
