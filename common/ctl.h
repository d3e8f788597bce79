/*
 * ctl.h - the control protocol of tollgated: the one implementation, used
 * by the daemon's server (proxyd/control.c) and by its clients (the
 * tollgate command, tollgate-prompt).  The protocol is described for its
 * users in docs/control.md.  Here are its lines: words, requests and
 * replies; the prompt lines are in ctl_prompt.h, and the blocking client
 * of the socket in ctl_client.h.
 *
 * Lines.  Every request and every reply is one line ending in "\n" (a "\r"
 * before it is dropped, so "socat - UNIX-CONNECT:..,crlf" works).  A line
 * holds at most CTL_LINE_MAX bytes before its "\n"; it never holds a NUL
 * or another control byte (below 0x20, or 0x7f).
 *
 * Words.  A line is words separated by spaces.  A word is bare (bytes
 * other than space, control bytes, '"' and '\') or quoted ("..." in which
 * \" \\ and \xHH stand for a quote, a backslash and byte HH).  A word may
 * be key=value, the value bare or quoted.  This is the quoting of
 * common/quote.h, so a rule's text form, a log line and a reply read the
 * same way.  When quoting, ctl_put_*() also quote a positional word that
 * holds '=', so that it does not read back as key=value.
 *
 * Requests: "VERB ARG..." (enum ctl_verb).  Replies:
 *   OK [key=value ...]
 *   ERR <code> <message>
 * where code is one of enum ctl_code by name and the message is free text
 * to the end of the line.
 *
 * Memory: nothing here keeps state between calls; every buffer is the
 * caller's or is freed by the matching _free() function.
 */
#ifndef TG_CTL_H
#define TG_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_LINE_MAX  65536 /* bytes of a line before its "\n" */
#define CTL_WORDS_MAX 64    /* words in one line */
#define CTL_MSG_MAX   1024  /* bytes of an ERR message kept by a client */
#define CTL_ERRLEN    512
/* IMPORT: lines that may follow it, and their bytes in all. */
#define CTL_IMPORT_LINES_MAX 1100000
#define CTL_IMPORT_BYTES_MAX (64UL * 1024 * 1024)

enum ctl_verb {
	CTL_STATUS,        /* STATUS */
	CTL_RULE_ADD,      /* RULE-ADD <rule fields> */
	CTL_RULE_DEL,      /* RULE-DEL ID */
	CTL_RULE_ENABLE,   /* RULE-ENABLE ID */
	CTL_RULE_DISABLE,  /* RULE-DISABLE ID */
	CTL_RULE_EDIT,     /* RULE-EDIT ID <rule fields> */
	CTL_IMPORT,        /* IMPORT N, then N lines of export text */
	CTL_RELOAD,        /* RELOAD */
	CTL_SUBSCRIBE,     /* SUBSCRIBE: become a prompt agent */
	CTL_PROMPTS,       /* PROMPTS: list pending prompts */
	CTL_ANSWER,        /* ANSWER ID VERDICT SCOPE DURATION */
	CTL_RULE_DURATION, /* RULE-DURATION ID DURATION */
	CTL_RULES,         /* RULES [after=ID] [limit=N] */
	CTL_EVENTS,        /* EVENTS [key=value...]: struct ctl_query */
};

/*
 * Who may send a verb (docs/control.md, "Who may connect, who may
 * change").  An admin is uid 0 or a member of admin_group; a guarded user
 * is one tollgated guards (a subordinate uid of theirs counts as them).
 */
enum ctl_access {
	CTL_ACCESS_ANY,   /* everyone; the handler may narrow (PROMPTS,
	                   * SUBSCRIBE, ANSWER) */
	CTL_ACCESS_ADMIN, /* admins only */
	CTL_ACCESS_OWN,   /* admins; and guarded users, on their own rules
	                   * or rows only (the handler checks which) */
};

/* RULES and EVENTS: rows in one reply, at most (a bigger limit is cut to
 * it), and bytes of the rows' lines, at most. */
#define CTL_ROWS_MAX       500
#define CTL_ROWS_BYTES_MAX (1024 * 1024)

/* What a prompt's answer covers: the rule it adds (docs/control.md). */
enum ctl_scope {
	CTL_SCOPE_NAME,   /* dest=NAME */
	CTL_SCOPE_DOMAIN, /* dest=*.DOMAIN, the registrable domain */
	CTL_SCOPE_APP,    /* dest=*: this app, anywhere */
	CTL_SCOPE_IP,     /* dest=IP */
	CTL_SCOPE_PORT,   /* dest=* port=PORT */
};
#define CTL_N_SCOPES 5

/* How long an answer holds. */
enum ctl_duration {
	CTL_DUR_ONCE,    /* no rule: the connections parked now */
	CTL_DUR_RESTART, /* a rule until tollgated restarts */
	CTL_DUR_HOUR,    /* a rule that expires in an hour */
	CTL_DUR_FOREVER,
	CTL_DUR_HALF_HOUR, /* a rule that expires in 30 minutes */
};
#define CTL_N_DURATIONS 5
#define CTL_HOUR_S      3600
#define CTL_HALF_HOUR_S 1800

/* The durations as people read them, shortest first (once, 30m, 1h,
 * restart, forever): the order every list shows them in; the enum's
 * numbers are the protocol's. */
extern const int ctl_duration_order[CTL_N_DURATIONS];

const char *ctl_scope_name(enum ctl_scope s);
const char *ctl_duration_name(enum ctl_duration d);
/* The scope or duration named s; -1 when none. */
int ctl_scope_parse(const char *s);
int ctl_duration_parse(const char *s);

enum ctl_code {
	CTL_E_PERM,  /* the peer may not do this */
	CTL_E_USAGE, /* not a request: unknown verb, bad arguments, quoting */
	CTL_E_NOTFOUND, /* no rule with that id */
	CTL_E_INVALID,  /* a request, but its rule or import text is bad */
	CTL_E_INTERNAL, /* the daemon failed (store, memory, too busy) */
	CTL_E_TOOLONG,  /* a line over CTL_LINE_MAX, or an IMPORT too big */
};

const char *ctl_verb_name(enum ctl_verb v);
/* True for the verbs only root and admin_group may send, whatever they
 * name (CTL_ACCESS_ADMIN). */
bool ctl_verb_needs_admin(enum ctl_verb v);
enum ctl_access ctl_verb_access(enum ctl_verb v);

const char *ctl_code_name(enum ctl_code c);
/* The code named s; -1 when s names none. */
int ctl_code_parse(const char *s);

/*
 * One word of a split line.  key is NULL for a positional word; value is
 * the word unquoted (NUL-terminated; a \x00 escape is refused, so values
 * are C strings).
 */
struct ctl_word {
	const char *key;
	const char *value;
};

/*
 * Split line[0..len) into at most max words, unquoting in place: line must
 * have room for a NUL at line[len].  The words point into line.  A trailing
 * "\r" and spaces around words are ignored.  Returns the number of words,
 * or -1 with err saying what was wrong and where (an unclosed quote, a
 * control byte, a bad escape, a '"' or '\' in a bare word, too many
 * words); line is then garbage.
 */
int ctl_split(char *line, size_t len, struct ctl_word *words, size_t max,
              char *err, size_t errlen);

/*
 * What RULES and EVENTS select (RULES takes after and limit only).  The
 * words, all optional, each once:
 *   after=ID    rows with a larger id, oldest first (paging, following);
 *               without it, the newest `limit` rows, oldest first
 *   limit=N     at most N rows (0 or more than CTL_ROWS_MAX: CTL_ROWS_MAX)
 *   app=EXE     a path (exactly) or a file name (the exe's last part)
 *   domain=NAME the name and every name under it
 *   verdict=V   allow, deny, reject
 *   proto=P     tcp, udp, dns
 *   since=MS until=MS   Unix time in ms: since <= time < until
 *   pid=N uid=N one process, one user (a guarded user sees only their
 *               own whatever uid says)
 *   gaps=no     leave out the rows that stand for events not recorded
 * Strings point into the request's buffer.
 */
struct ctl_query {
	bool has_after;
	int64_t after;
	unsigned long limit; /* 1 .. CTL_ROWS_MAX */
	const char *app, *domain, *verdict, *proto;
	int64_t since_ms, until_ms; /* 0: no bound */
	long pid;                   /* 0: any */
	bool has_uid;
	uint32_t uid;
	bool no_gaps;
};

/*
 * A request, parsed.  Everything points into buf, which belongs to the
 * request: free with ctl_req_free().
 */
struct ctl_req {
	enum ctl_verb verb;
	int64_t id;      /* RULE-DEL, -ENABLE, -DISABLE, -EDIT: > 0 */
	unsigned long n; /* IMPORT: lines that follow, <= the maximum */
	/* ANSWER ID VERDICT SCOPE DURATION */
	int verdict; /* enum action of common/config.h */
	enum ctl_scope scope;
	enum ctl_duration duration;
	const char *duration_text; /* RULE-DURATION: as rule_parse_duration()
	                            * takes it */
	struct ctl_query query;    /* RULES, EVENTS */
	const char *fields;        /* RULE-ADD, RULE-EDIT: the rule's key=value
	                            * fields as sent (the rule text form of rules/
	                            * rule.h without its leading word "rule") */
	char *buf;
};

/*
 * Parse one request line (without its "\n"; a trailing "\r" is dropped).
 * Returns 0, or -1 with *code set (CTL_E_TOOLONG for a line over
 * CTL_LINE_MAX or an IMPORT over the limits, CTL_E_USAGE for anything else
 * that is not a request, CTL_E_INTERNAL when out of memory) and err
 * holding the message for the ERR line.  The syntax of the rule fields is
 * checked here (words and quoting); their meaning is the rule parser's.
 * On -1 nothing needs freeing.
 */
int ctl_req_parse(const char *line, size_t len, struct ctl_req *req,
                  enum ctl_code *code, char *err, size_t errlen);
void ctl_req_free(struct ctl_req *req);

/*
 * Building a line into a caller's buffer.  The line is kept
 * NUL-terminated; once it would pass CTL_LINE_MAX or the buffer, `over` is
 * set, the value that did not fit is not kept, and later calls do
 * nothing.  ctl_line_end() appends the "\n" and returns the line's length
 * with it, or -1 when over.
 */
struct ctl_line {
	char *buf;
	size_t cap; /* bytes of buf */
	size_t len; /* bytes used, without the NUL */
	bool over;
};

void ctl_line_init(struct ctl_line *l, char *buf, size_t cap);
/* Append a positional word, quoted when it must be. */
void ctl_put_word(struct ctl_line *l, const char *word);
/* Append key=value, the value quoted when it must be (as log_kv()). */
void ctl_put_kv(struct ctl_line *l, const char *key, const char *value);
void ctl_put_kvf(struct ctl_line *l, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append text that is already words (a rule's fields), after a space. */
void ctl_put_raw(struct ctl_line *l, const char *text);
int ctl_line_end(struct ctl_line *l);

/*
 * Append q's words to l (a request being built: the verb is there
 * already), those that are set.  For the clients of RULES and EVENTS.
 */
void ctl_put_query(struct ctl_line *l, const struct ctl_query *q);

/*
 * A whole ERR line (with its "\n") in buf: control bytes of the message
 * become '?', and a message too long for the line is cut.  Returns the
 * length.
 */
size_t ctl_fmt_err(char *buf, size_t cap, enum ctl_code code, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

/*
 * A reply, parsed.  For OK, kv[0..n) are its key=value words; for ERR,
 * code (codestr as sent, when it is a code this version does not know)
 * and msg.  Free with ctl_reply_free().
 */
struct ctl_reply {
	bool ok;
	int code; /* enum ctl_code, or -1 when unknown */
	char codestr[16];
	char msg[CTL_MSG_MAX];
	struct ctl_word kv[CTL_WORDS_MAX];
	size_t n;
	char *buf;
};

/* Parse one reply line (without its "\n").  0, or -1 + err when it is
 * neither a well-formed OK nor an ERR line. */
int ctl_reply_parse(const char *line, size_t len, struct ctl_reply *rep,
                    char *err, size_t errlen);
void ctl_reply_free(struct ctl_reply *rep);
/* The value of key in an OK reply, or NULL. */
const char *ctl_reply_get(const struct ctl_reply *rep, const char *key);

#endif
