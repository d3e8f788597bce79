/*
 * events.h - the event log: one row per decision tollgated takes, in the
 * same SQLite database as the rules (store.h), written by the daemon's
 * event writer thread and read by "tollgate events".
 *
 * Fields as DESIGN.md "Events": time, pid, uid, user, exe, cmdline, proto,
 * source, destination IP and port, name and where it came from, verdict,
 * what decided it, upstream, bytes each way, duration, flags.  Bytes and
 * duration are filled when the connection ends (events_close()).  A row
 * of kind EVENT_GAP stands for events that were not recorded (the writer
 * fell behind): "N events not recorded between T1 and T2".
 *
 * rules/ never includes anything from proxyd/ or cli/.
 */
#ifndef TG_EVENTS_H
#define TG_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/config.h" /* enum action */
#include "common/name.h"

#define EVENT_EXE_MAX     4096
#define EVENT_CMDLINE_MAX 512
#define EVENT_USER_MAX    64
#define EVENT_IP_MAX      46 /* INET6_ADDRSTRLEN */

enum event_kind {
	EVENT_DECISION, /* one connection's decision */
	EVENT_GAP,      /* n_lost events were not recorded, first..last */
};

/* What decided: a rule, the default action, or why it was refused. */
enum event_decider {
	DECIDER_RULE,    /* rule_id */
	DECIDER_DEFAULT, /* default_action */
	DECIDER_PROMPT,  /* the user answered (prompt issue) */
	DECIDER_TIMEOUT, /* no answer in time (prompt issue) */
	DECIDER_PEEK,    /* malformed or incomplete first message */
	DECIDER_LOOP,    /* a connection to tollgated itself */
	DECIDER_OVERLOAD,
	DECIDER_NO_DST,
};

/* Flags, OR-ed. */
#define EVENT_F_ECH      0x1 /* ClientHello offered ECH */
#define EVENT_F_MISMATCH 0x2 /* two name sources disagreed */
#define EVENT_F_UNKNOWN  0x4 /* unknown process */

struct event {
	int64_t id;          /* 0 until stored */
	enum event_kind kind;
	int64_t conn_id;     /* tollgated's connection number (per run) */
	int64_t time_ms;     /* Unix time of the decision, in ms */
	pid_t pid;           /* 0 = unknown */
	bool has_uid;
	uid_t uid;
	char user[EVENT_USER_MAX];
	char exe[EVENT_EXE_MAX];         /* "" = unknown process */
	char cmdline[EVENT_CMDLINE_MAX];
	char proto[8];                   /* "tcp", "udp", "dns" */
	char src_ip[EVENT_IP_MAX];       /* the client */
	uint16_t src_port;
	char dst_ip[EVENT_IP_MAX];
	uint16_t dst_port;
	char name[NAME_MAX_LEN + 1];     /* "" = none */
	char name_source[8];             /* "sni", "http", "socks", "fakeip",
	                                  * "dns", "none" */
	enum action verdict;
	enum event_decider decider;
	int64_t rule_id;                 /* DECIDER_RULE */
	char upstream[64];               /* "direct" or "socks5://..." */
	unsigned flags;
	/* filled when the connection ends; -1 until then */
	int64_t bytes_up, bytes_down, duration_ms;
	/* EVENT_GAP: how many were lost, and the first and last time */
	int64_t n_lost, lost_first_ms, lost_last_ms;
};

const char *event_decider_str(enum event_decider d);

#endif
