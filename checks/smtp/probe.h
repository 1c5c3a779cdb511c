/*
 * The probe of one recipient domain: sessions with its MX hosts in
 * preference order, each host's addresses in turn, until one gives a
 * definitive answer; then what the whole attempt means (accepted,
 * rejected, deferred, blocked at connection, the server down, port 25
 * blocked on the way out). Knows no DNS: the caller resolves the hosts.
 */
#ifndef WHY550_SMTP_PROBE_H
#define WHY550_SMTP_PROBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/smtp/conn.h"
#include "checks/smtp/pace.h"
#include "checks/smtp/session.h"

/* What the probe found, all hosts together. */
enum smtp_result {
	SMTP_RESULT_ACCEPTED = 0,	/* a host accepted RCPT TO */
	SMTP_RESULT_REJECTED,		/* a host refused the session with a 5xx after its banner */
	SMTP_RESULT_DEFERRED,		/* the answer was a 4xx (greylisting, rate limit, busy) */
	SMTP_RESULT_BLOCKED_AT_CONNECT,	/* every host that greeted did so with a 5xx */
	SMTP_RESULT_SERVER_DOWN,	/* refused, reset or 421 at connection on every host */
	SMTP_RESULT_DROPPED,		/* a host closed the connection in the middle */
	SMTP_RESULT_STALLED,		/* a host connected, then did not answer in time */
	SMTP_RESULT_PORT25_BLOCKED,	/* every host timed out while a control connection worked */
	SMTP_RESULT_UNREACHABLE,	/* every host timed out, and so did the control connection */
	SMTP_RESULT_PROTOCOL_ERROR,	/* hosts answered with bytes that are not SMTP */
	SMTP_RESULT_SOURCE_UNUSABLE,	/* the source address cannot be used */
	SMTP_RESULT_DEADLINE,		/* the target's deadline came first */
};

/*
 * "accepted", "rejected", "deferred", "blocked_at_connect", "server_down",
 * "dropped", "stalled", "port25_blocked", "unreachable", "protocol_error",
 * "source_unusable", "deadline".
 */
const char *smtp_result_name(enum smtp_result r);

/* One MX host and the addresses to try, in order. */
struct smtp_probe_host {
	const char *name;
	int preference;
	const struct smtp_addr *addrs;
	size_t naddrs;
};

/* The probe's settings (checks.d [smtp]). */
struct smtp_probe_conf {
	int port;
	int connect_ms, banner_ms, command_ms, tls_ms;
	bool starttls;
	/* the control connection that tells a blocked port 25 from a dead network */
	int control_ms;
	const int *control_ports;		/* tried on the MX addresses */
	size_t ncontrol_ports;
	const struct smtp_addr *control_hosts;	/* and these, on control_host_ports */
	const int *control_host_ports;
	size_t ncontrol_hosts;
};

/* What to probe. Borrowed. */
struct smtp_probe_input {
	const struct smtp_probe_host *hosts;	/* preference order */
	size_t nhosts;
	const struct smtp_addr *src;		/* NULL: the kernel's choice */
	const char *helo;			/* NULL: helo_name() as in struct smtp_plan */
	char *(*helo_name)(const struct smtp_addr *local, void *arg);
	void *helo_arg;
	const char *mail_from, *rcpt_to;	/* inside <> */
	const struct smtp_tls_ctx *tls;
	struct smtp_pace *pace;
	int64_t deadline;
};

/* An address left alone for the good of the receiver. */
struct smtp_skip {
	const char *host;
	struct smtp_addr addr;
	enum smtp_pace_wait why;	/* SMTP_PACE_BACKOFF or SMTP_PACE_LATE */
	int64_t left_ms;		/* of the back-off */
};

struct smtp_probe {
	enum smtp_result result;
	struct smtp_session *sessions;	/* in the order they ran */
	size_t nsessions;
	long reply_from;		/* the session whose last reply is the answer, or -1 */
	struct smtp_skip *skipped;
	size_t nskipped;
	bool control_tried;
	bool control_ok;		/* a control connection answered */
	struct smtp_addr control_addr;	/* which, when control_ok */
	int control_port;
};

/*
 * Runs the probe in into out (release it). One session at a time; an
 * address is held in in->pace for its session. A session whose TLS
 * handshake fails is run once more in clear, as an MTA would. Blocks on
 * the network at most until in->deadline. Cannot fail.
 */
void smtp_probe_run(const struct smtp_probe_conf *c, const struct smtp_probe_input *in,
    struct smtp_probe *out);
void smtp_probe_release(struct smtp_probe *p);

/* The session whose reply is the answer, or NULL. */
const struct smtp_session *smtp_probe_answer(const struct smtp_probe *p);

/*
 * Fresh members for the check's JSON: {result, reply_from, sessions: [...],
 * skipped: [{host, address, reason, retry_in_ms}], control: null |
 * {reachable, address, port}}, set into obj.
 */
void smtp_probe_json(const struct smtp_probe *p, json_t *obj);

#endif
