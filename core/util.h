/* Small helpers every module uses: fatal allocation wrappers, error reporting, clocks. */
#ifndef WHY550_UTIL_H
#define WHY550_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The exit code when the process runs out of a resource of the system (sysexits EX_OSERR). */
#define EXIT_OSERR 71

/*
 * Allocation that never returns NULL: out of memory prints "out of memory"
 * and ends the process with EXIT_OSERR (see resource_check).
 */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh heap string owned by the caller. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Two error channels, each for its kind of failure.
 *
 * struct error: a problem of the setup that stops what the person running
 * the program asked for, and that the program shows them: a file, directory,
 * socket or thread that fails (the environment), a bad checks.d line, a bad
 * command-line value or batch field. The function that detects it fills err
 * once with the whole message ("file:line: ...", the option or field, the
 * path and strerror) and returns -1; callers pass -1 up without adding to
 * it; main or the batch loop prints it and picks the exit code (78, 64).
 * A function that parses and also touches the environment (a batch line
 * naming a message file) takes struct error.
 *
 * char *why, size_t whylen: a pure parser or validator of untrusted text (a
 * DNS record, a header field, a bounce, an address) that does no I/O. Its
 * failure is an ordinary outcome that the caller usually turns into a
 * finding, so it only writes a short reason into the caller's buffer: it
 * never allocates for an error, keeps no state, and is safe in the check
 * threads and the fuzz harnesses. The caller adds the context (the input's
 * name, file:line) when it passes the reason on, e.g. into a struct error.
 */
struct error {
	char msg[512];
};

/* Fills err (if not NULL) and returns -1. */
int error_set(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "why550: <msg>" to stderr once and returns -1. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Running out of file descriptors or memory is no error of the input or
 * the setup, and no check's finding: it ends the process. For errnum
 * EMFILE, ENFILE, ENOMEM or ENOBUFS, prints "why550: <what>: out of file
 * descriptors (the limit is N; ...)" or "...: out of memory" on stderr
 * and exits EXIT_OSERR, without flushing standard output; returns for any
 * other errnum. Safe from any thread.
 */
void resource_check(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Makes an abort() for want of memory inside a library (ldns asserts,
 * GLib aborts) end like resource_check(ENOMEM): 71, "out of memory".
 * Other aborts stay aborts. Called once by main.
 */
void resource_watch_aborts(void);

/*
 * A writer of standard output calls output_begin() before it writes one
 * whole document or line and output_end() after it flushed it: an exit
 * for a resource waits for the write, so the output holds no half line.
 */
void output_begin(void);
void output_end(void);

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
