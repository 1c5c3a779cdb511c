/* The probe of one recipient domain: its MX hosts in order until one answers for sure, then what all the sessions together mean. */
#include "checks/smtp/probe.h"

#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"
#include "core/util.h"

/* A connection attempt gets at least this long, however little time is left. */
#define CONNECT_MIN_MS	500

static const char *const result_names[] = {
	[SMTP_RESULT_ACCEPTED] = "accepted",
	[SMTP_RESULT_REJECTED] = "rejected",
	[SMTP_RESULT_DEFERRED] = "deferred",
	[SMTP_RESULT_BLOCKED_AT_CONNECT] = "blocked_at_connect",
	[SMTP_RESULT_SERVER_DOWN] = "server_down",
	[SMTP_RESULT_DROPPED] = "dropped",
	[SMTP_RESULT_STALLED] = "stalled",
	[SMTP_RESULT_PORT25_BLOCKED] = "port25_blocked",
	[SMTP_RESULT_UNREACHABLE] = "unreachable",
	[SMTP_RESULT_PROTOCOL_ERROR] = "protocol_error",
	[SMTP_RESULT_SOURCE_UNUSABLE] = "source_unusable",
	[SMTP_RESULT_DEADLINE] = "deadline",
};

const char *
smtp_result_name(enum smtp_result r)
{
	if ((int)r < 0 || (size_t)r >= ARRAY_SIZE(result_names))
		return "deadline";
	return result_names[r];
}

/* What one session says about the receiver, for the summary. */
enum kind {
	KIND_DECIDED,		/* a definitive answer: stop */
	KIND_BANNER_5XX,	/* refused at the greeting */
	KIND_4XX,		/* a temporary refusal before the envelope */
	KIND_421,		/* "service not available" before the envelope */
	KIND_REFUSED,		/* connection refused or reset at once */
	KIND_CONNECT_TIMEOUT,	/* no answer to the connection */
	KIND_UNREACHABLE,	/* no route */
	KIND_DROPPED,		/* closed or reset after connecting */
	KIND_STALLED,		/* connected, then no answer in time */
	KIND_MALFORMED,		/* not SMTP */
	KIND_SOURCE,		/* the source address is unusable */
	KIND_DEADLINE,		/* cut by the target's deadline */
};

static enum kind
kind_of(const struct smtp_session *s)
{
	switch (s->outcome) {
	case SMTP_OUT_ACCEPTED:
		return KIND_DECIDED;
	case SMTP_OUT_REJECTED:
		return s->stage == SMTP_STAGE_BANNER ? KIND_BANNER_5XX : KIND_DECIDED;
	case SMTP_OUT_DEFERRED:
		/* a 4xx about the envelope is the receiver's answer to it */
		if (s->stage == SMTP_STAGE_MAIL || s->stage == SMTP_STAGE_RCPT)
			return KIND_DECIDED;
		return s->got_421 ? KIND_421 : KIND_4XX;
	case SMTP_OUT_FAILED:
		break;
	}
	if (s->deadline)
		return KIND_DEADLINE;
	switch (s->io) {
	case SMTP_IO_REFUSED:
		return KIND_REFUSED;
	case SMTP_IO_SOURCE:
		return KIND_SOURCE;
	case SMTP_IO_UNREACHABLE:
		return KIND_UNREACHABLE;
	case SMTP_IO_TIMEOUT:
		return s->connected ? KIND_STALLED : KIND_CONNECT_TIMEOUT;
	case SMTP_IO_RESET:
	case SMTP_IO_CLOSED:
		return s->connected ? KIND_DROPPED : KIND_REFUSED;
	case SMTP_IO_MALFORMED:
	case SMTP_IO_TLS_FAILED:
		return KIND_MALFORMED;
	case SMTP_IO_OK:
	case SMTP_IO_ERROR:
		break;
	}
	return KIND_UNREACHABLE;
}

/* What to do after a session: stop, or try the host's next address, or the next host. */
enum next {
	NEXT_ADDRESS,
	NEXT_HOST,
	NEXT_STOP,
};

static enum next
next_after(const struct smtp_session *s)
{
	switch (kind_of(s)) {
	case KIND_DECIDED:
	case KIND_SOURCE:
	case KIND_DEADLINE:
		return NEXT_STOP;
	case KIND_BANNER_5XX:
	case KIND_4XX:
	case KIND_421:
		/* RFC 5321 5.1: the host answered; its other addresses are the same host */
		return NEXT_HOST;
	default:
		return NEXT_ADDRESS;
	}
}

static struct smtp_session *
add_session(struct smtp_probe *p)
{
	p->sessions = xrealloc(p->sessions, (p->nsessions + 1) * sizeof(*p->sessions));
	return &p->sessions[p->nsessions++];
}

/*
 * The connect time of the next attempt: the configured one, shortened so
 * that the attempts left and the control connection still fit before the
 * deadline when every one of them times out.
 */
static int
connect_budget(const struct smtp_probe_conf *c, int64_t deadline, size_t attempts_left)
{
	int64_t share = (deadline - now_ms() - c->control_ms) /
	    (int64_t)(attempts_left > 0 ? attempts_left : 1);

	if (share < CONNECT_MIN_MS)
		share = CONNECT_MIN_MS;
	return share < c->connect_ms ? (int)share : c->connect_ms;
}

/* One address: a session, and one more in clear if its TLS handshake failed. The last session. */
static const struct smtp_session *
probe_address(const struct smtp_probe_conf *c, const struct smtp_probe_input *in,
    const struct smtp_probe_host *h, const struct smtp_addr *a, int connect_ms,
    struct smtp_probe *out)
{
	struct smtp_plan plan = {
		.host = h->name, .addr = *a, .port = c->port, .src = in->src,
		.helo = in->helo, .helo_name = in->helo_name, .helo_arg = in->helo_arg,
		.mail_from = in->mail_from, .rcpt_to = in->rcpt_to,
		.starttls = c->starttls, .tls = in->tls, .connect_ms = connect_ms,
		.banner_ms = c->banner_ms, .command_ms = c->command_ms, .tls_ms = c->tls_ms,
		.deadline = in->deadline,
	};
	struct smtp_session *s = add_session(out);

	smtp_session_run(&plan, s);
	if (s->outcome == SMTP_OUT_FAILED && s->stage == SMTP_STAGE_TLS && !s->deadline) {
		/* as an MTA does with opportunistic TLS (RFC 7435): again, in clear */
		plan.starttls = false;
		s = add_session(out);
		smtp_session_run(&plan, s);
	}
	return s;
}

static void
add_skip(struct smtp_probe *p, const char *host, const struct smtp_addr *a,
    enum smtp_pace_wait why, int64_t left)
{
	struct smtp_skip *k;

	p->skipped = xrealloc(p->skipped, (p->nskipped + 1) * sizeof(*p->skipped));
	k = &p->skipped[p->nskipped++];
	k->host = host;
	k->addr = *a;
	k->why = why;
	k->left_ms = left;
}

/* The control connection: is the network up while port 25 times out? */
static void
control(const struct smtp_probe_conf *c, const struct smtp_probe_input *in,
    struct smtp_probe *out)
{
	size_t n = 0, i, j, max = in->nhosts * c->ncontrol_ports + c->ncontrol_hosts;
	struct smtp_addr *dst = xcalloc(max > 0 ? max : 1, sizeof(*dst));
	int *ports = xcalloc(max > 0 ? max : 1, sizeof(*ports));
	int64_t u = now_ms() + c->control_ms;
	int found;

	for (i = 0; i < in->nhosts; i++) {
		if (in->hosts[i].naddrs == 0)
			continue;
		for (j = 0; j < c->ncontrol_ports; j++) {
			dst[n] = in->hosts[i].addrs[0];
			ports[n++] = c->control_ports[j];
		}
	}
	for (i = 0; i < c->ncontrol_hosts; i++) {
		if (in->src != NULL && in->src->family != c->control_hosts[i].family)
			continue;
		dst[n] = c->control_hosts[i];
		ports[n++] = c->control_host_ports[i];
	}
	out->control_tried = true;
	found = smtp_connect_any(dst, ports, n, in->src, u < in->deadline ? u : in->deadline);
	if (found >= 0) {
		out->control_ok = true;
		out->control_addr = dst[found];
		out->control_port = ports[found];
	}
	free(dst);
	free(ports);
}

/* The first session of kind k, or -1. */
static long
first_of(const struct smtp_probe *p, enum kind k)
{
	size_t i;

	for (i = 0; i < p->nsessions; i++)
		if (kind_of(&p->sessions[i]) == k)
			return (long)i;
	return -1;
}

/* Sessions of none of the kinds in mask (bits 1 << kind). */
static size_t
count_other(const struct smtp_probe *p, unsigned mask)
{
	size_t i, n = 0;

	for (i = 0; i < p->nsessions; i++)
		if (!(mask & (1u << kind_of(&p->sessions[i]))))
			n++;
	return n;
}

#define BIT(k)	(1u << (k))

/* What the sessions mean together when none decided; may try the control connection. */
static void
summarize(const struct smtp_probe_conf *c, const struct smtp_probe_input *in,
    struct smtp_probe *out)
{
	static const struct {
		enum kind kind;
		enum smtp_result result;
	} order[] = {
		{ KIND_SOURCE, SMTP_RESULT_SOURCE_UNUSABLE },
		{ KIND_BANNER_5XX, SMTP_RESULT_BLOCKED_AT_CONNECT },
		{ KIND_4XX, SMTP_RESULT_DEFERRED },
		{ KIND_DROPPED, SMTP_RESULT_DROPPED },
		{ KIND_STALLED, SMTP_RESULT_STALLED },
		{ KIND_MALFORMED, SMTP_RESULT_PROTOCOL_ERROR },
		{ KIND_421, SMTP_RESULT_SERVER_DOWN },
		{ KIND_REFUSED, SMTP_RESULT_SERVER_DOWN },
	};
	unsigned down = BIT(KIND_421) | BIT(KIND_REFUSED) | BIT(KIND_UNREACHABLE);
	size_t i;

	/* refused, reset or 421 on every host that could be reached: the server is down */
	if (out->nsessions > 0 && count_other(out, down) == 0 &&
	    (first_of(out, KIND_421) >= 0 || first_of(out, KIND_REFUSED) >= 0)) {
		out->result = SMTP_RESULT_SERVER_DOWN;
		out->reply_from = first_of(out, KIND_421);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		if ((out->reply_from = first_of(out, order[i].kind)) >= 0) {
			out->result = order[i].result;
			if (order[i].kind == KIND_REFUSED || order[i].kind == KIND_SOURCE)
				out->reply_from = -1;
			return;
		}
	}
	out->reply_from = -1;
	/* a host in its 421 back-off asked to be left alone: that is its answer */
	if (out->nsessions == 0 && out->nskipped > 0 && out->skipped[0].why == SMTP_PACE_BACKOFF) {
		out->result = SMTP_RESULT_DEFERRED;
		return;
	}
	if (first_of(out, KIND_CONNECT_TIMEOUT) < 0 || now_ms() >= in->deadline) {
		out->result = first_of(out, KIND_DEADLINE) >= 0 || out->nsessions == 0 ?
		    SMTP_RESULT_DEADLINE : SMTP_RESULT_UNREACHABLE;
		return;
	}
	control(c, in, out);
	out->result = out->control_ok ? SMTP_RESULT_PORT25_BLOCKED : SMTP_RESULT_UNREACHABLE;
}

void
smtp_probe_run(const struct smtp_probe_conf *c, const struct smtp_probe_input *in,
    struct smtp_probe *out)
{
	size_t h, a, left = 0;
	enum next next = NEXT_ADDRESS;

	memset(out, 0, sizeof(*out));
	out->reply_from = -1;
	for (h = 0; h < in->nhosts; h++)
		left += in->hosts[h].naddrs;
	for (h = 0; h < in->nhosts && next != NEXT_STOP; h++) {
		const struct smtp_probe_host *host = &in->hosts[h];

		next = NEXT_ADDRESS;
		for (a = 0; a < host->naddrs && next == NEXT_ADDRESS; a++, left--) {
			const struct smtp_addr *addr = &host->addrs[a];
			const struct smtp_session *s;
			enum smtp_pace_wait w;
			int64_t wait_left = 0;

			if (now_ms() >= in->deadline) {
				next = NEXT_STOP;
				break;
			}
			w = smtp_pace_acquire(in->pace, addr->text, in->deadline, &wait_left);
			if (w != SMTP_PACE_GO) {
				add_skip(out, host->name, addr, w, wait_left);
				continue;
			}
			s = probe_address(c, in, host, addr, connect_budget(c, in->deadline, left),
			    out);
			smtp_pace_release(in->pace, addr->text, s->got_421);
			next = next_after(s);
		}
	}
	if (out->nsessions > 0 && kind_of(&out->sessions[out->nsessions - 1]) == KIND_DECIDED) {
		const struct smtp_session *s = &out->sessions[out->nsessions - 1];

		out->reply_from = (long)out->nsessions - 1;
		out->result = s->outcome == SMTP_OUT_ACCEPTED ? SMTP_RESULT_ACCEPTED :
		    s->outcome == SMTP_OUT_REJECTED ? SMTP_RESULT_REJECTED : SMTP_RESULT_DEFERRED;
		return;
	}
	summarize(c, in, out);
}

void
smtp_probe_release(struct smtp_probe *p)
{
	size_t i;

	for (i = 0; i < p->nsessions; i++)
		smtp_session_release(&p->sessions[i]);
	free(p->sessions);
	free(p->skipped);
	memset(p, 0, sizeof(*p));
}

const struct smtp_session *
smtp_probe_answer(const struct smtp_probe *p)
{
	return p->reply_from >= 0 ? &p->sessions[p->reply_from] : NULL;
}

void
smtp_probe_json(const struct smtp_probe *p, json_t *obj)
{
	json_t *sessions = json_array(), *skipped = json_array();
	size_t i;

	for (i = 0; i < p->nsessions; i++)
		json_array_append_new(sessions, smtp_session_json(&p->sessions[i]));
	for (i = 0; i < p->nskipped; i++) {
		const struct smtp_skip *k = &p->skipped[i];

		json_array_append_new(skipped, json_pack("{s:o,s:s,s:s,s:o}",
		    "host", json_str(k->host), "address", k->addr.text,
		    "reason", k->why == SMTP_PACE_BACKOFF ? "backoff_421" : "paced_past_deadline",
		    "retry_in_ms", k->why == SMTP_PACE_BACKOFF ? json_integer(k->left_ms) :
		    json_null()));
	}
	json_object_set_new(obj, "result", json_string(smtp_result_name(p->result)));
	json_object_set_new(obj, "reply_from", p->reply_from >= 0 ?
	    json_integer(p->reply_from) : json_null());
	json_object_set_new(obj, "sessions", sessions);
	json_object_set_new(obj, "skipped", skipped);
	json_object_set_new(obj, "control", !p->control_tried ? json_null() :
	    json_pack("{s:b,s:o,s:o}", "reachable", p->control_ok,
	    "address", p->control_ok ? json_str(p->control_addr.text) : json_null(),
	    "port", p->control_ok ? json_integer(p->control_port) : json_null()));
}
