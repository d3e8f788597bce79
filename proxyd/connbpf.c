/*
 * connbpf.c - who called connect(); see connbpf.h.
 *
 * The program, for BPF_PROG_TYPE_CGROUP_SOCK_ADDR at connect4/connect6
 * (ctx is struct bpf_sock_addr):
 *
 *	if (ctx->type != SOCK_STREAM) return 1;
 *	[in a pid namespace of tollgated's own:
 *	 if (bpf_get_ns_current_pid_tgid(DEV, INO, &ns, 8) != 0) return 1;]
 *	key = bpf_get_socket_cookie(ctx);
 *	val = {bpf_get_current_pid_tgid() [or ns.tgid << 32 | ns.pid],
 *	       bpf_get_current_uid_gid(), bpf_ktime_get_boot_ns(),
 *	       bpf_get_netns_cookie(ctx)};
 *	bpf_map_update_elem(&map, &key, &val, BPF_ANY);
 *	return 1;
 *
 * Only stream sockets are recorded: datagram connects (every resolver
 * query of glibc connects a UDP socket) would push the TCP records out
 * of the LRU map, and attribution of UDP does not look here.  The key
 * lives at fp-8, the value at fp-40..fp-9 and ns at fp-48 on the
 * program's stack.
 *
 * The SYN program, for BPF_PROG_TYPE_CGROUP_SKB at egress (ctx is struct
 * __sk_buff; it runs in ip_finish_output, after netfilter's LOCAL_OUT
 * and POSTROUTING hooks), files the connect record under the address
 * pair tollgated will see, so that a redirected connection needs no
 * sock_diag round trip:
 *
 *	sk = ctx->sk; if (!sk || sk->state != TCP_SYN_SENT) return 1;
 *	[IPv4 or IPv6 header with TCP after it, else return 1]
 *	key = {the packet's source port, sk->dst_port, 4 or 6, the
 *	       packet's source address, sk's destination address};
 *	cookie = bpf_get_socket_cookie(ctx);
 *	rec = bpf_map_lookup_elem(&connect_map, &cookie);
 *	if (!rec) { bpf_map_delete_elem(&syn_map, &key); return 1; }
 *	val = {*rec, cookie, bpf_get_socket_uid(ctx), the SYN's seq};
 *	bpf_map_update_elem(&syn_map, &key, &val, BPF_ANY);
 *	return 1;
 *
 * The source is the packet's, not the socket's: conntrack gives a
 * redirected connection another source port when its own would clash
 * (ctorig.h), at POSTROUTING, before this program; tollgated accepts
 * that port.  The destination is the socket's: the one the redirect
 * replaced, which SO_ORIGINAL_DST gives back.  tollgated takes a record
 * out as it reads it (connbpf_syn_take()), and only when the sequence
 * number is that of the SYN its listener saved for the accepted socket:
 * a record that no SYN of this connection wrote (one left by a
 * connection that was never redirected, while this one's SYN was one
 * the program skipped) is never taken for it.  The stack layout is at
 * connbpf_syn_program().
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "proxyd/connbpf.h"

#define CONNBPF_MOUNTINFO     "/proc/self/mountinfo"
#define CONNBPF_LINE_MAX      4096
#define CONNBPF_N_HOOKS       2
#define CONNBPF_TCP_SYN_SENT  2    /* include/net/tcp_states.h */
#define CONNBPF_SAVED_SYN_MAX 512  /* IP and TCP headers of a SYN */
#define CONNBPF_SELFTEST_MS   2000 /* for the self-test's own connection */
/* The initial pid namespace's inode (include/linux/proc_ns.h) */
#define CONNBPF_INIT_PIDNS 0xEFFFFFFCu

/* struct bpf_sock_addr's type field */
#define CONNBPF_CTX_TYPE offsetof(struct bpf_sock_addr, type)

/* The value as the program stores it (four u64 at fp-40). */
struct connbpf_val {
	uint64_t pid_tgid; /* tgid << 32 | tid */
	uint64_t uid_gid;  /* gid << 32 | uid */
	uint64_t boot_ns;
	uint64_t netns; /* the socket's network namespace's cookie */
};

/* The SYN map's key and value (connbpf_syn_program()'s stack). */
struct connbpf_skey {
	uint16_t sport;  /* network order */
	uint16_t dport;  /* network order */
	uint32_t family; /* 4 or 6 */
	uint8_t src[16]; /* IPv4 in the first four bytes */
	uint8_t dst[16];
};

struct connbpf_sval {
	struct connbpf_val rec; /* its network namespace included */
	uint64_t cookie;
	uint64_t sk_uid;
	uint8_t seq[8]; /* the SYN's sequence number, as the packet has
	                 * it, then zeros */
};

struct connbpf {
	int map;
	int links[CONNBPF_N_HOOKS];
	int syn_map;        /* address pair -> record; -1 when off */
	int syn_link;       /* the SYN program, attached; -1 when not */
	uint64_t netns;     /* tollgated's network namespace's cookie */
	int exec_map;       /* tgid -> CLOCK_BOOTTIME of its latest exec */
	int exec_link;      /* the exec program, attached; -1 when not */
	uint64_t answered;  /* __atomic */
	uint64_t fallback;  /* __atomic */
	uint64_t syn_taken; /* __atomic */
};

/* Instructions, as struct bpf_insn {code, dst_reg, src_reg, off, imm}. */
#define INSN(c, d, s, o, i)                                                    \
	((struct bpf_insn){.code = (c),                                        \
	                   .dst_reg = (d),                                     \
	                   .src_reg = (s),                                     \
	                   .off = (o),                                         \
	                   .imm = (i)})
#define MOV64_REG(d, s)  INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i)  INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADD64_IMM(d, i)  INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define RSH64_IMM(d, i)  INSN(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, i)
#define LDX_W(d, s, o)   INSN(BPF_LDX | BPF_W | BPF_MEM, d, s, o, 0)
#define LDX_H(d, s, o)   INSN(BPF_LDX | BPF_H | BPF_MEM, d, s, o, 0)
#define LDX_B(d, s, o)   INSN(BPF_LDX | BPF_B | BPF_MEM, d, s, o, 0)
#define STX_W(d, s, o)   INSN(BPF_STX | BPF_W | BPF_MEM, d, s, o, 0)
#define STX_H(d, s, o)   INSN(BPF_STX | BPF_H | BPF_MEM, d, s, o, 0)
#define ST_DW(d, o, i)   INSN(BPF_ST | BPF_DW | BPF_MEM, d, 0, o, i)
#define ST_W(d, o, i)    INSN(BPF_ST | BPF_W | BPF_MEM, d, 0, o, i)
#define AND64_IMM(d, i)  INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define LSH64_IMM(d, i)  INSN(BPF_ALU64 | BPF_LSH | BPF_K, d, 0, 0, i)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JA(o)            INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define STX_DW(d, s, o)  INSN(BPF_STX | BPF_DW | BPF_MEM, d, s, o, 0)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define CALL(f)          INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()           INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LDX_DW(d, s, o)  INSN(BPF_LDX | BPF_DW | BPF_MEM, d, s, o, 0)
/* A 64-bit constant into d: one instruction in two slots. */
#define LD_IMM64_LO(d, v)                                                      \
	INSN(BPF_LD | BPF_DW | BPF_IMM, d, 0, 0, (int32_t)(uint32_t)(v))
#define LD_IMM64_HI(v)                                                         \
	INSN(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)(v) >> 32))

static int connbpf_attach(int, int, enum bpf_attach_type, const char *, char *,
                          size_t);

static long
connbpf_sys(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/*
 * At prog[n]: r0 = bpf_get_ns_current_pid_tgid(pidns's device and inode,
 * fp + off, 8), which fills the struct bpf_pidns_info at fp + off.  The
 * next free index.
 */
static size_t
connbpf_emit_ns(struct bpf_insn *prog, size_t n, const struct stat *pidns,
                int off)
{
	prog[n++] = LD_IMM64_LO(BPF_REG_1, (uint64_t)pidns->st_dev);
	prog[n++] = LD_IMM64_HI((uint64_t)pidns->st_dev);
	prog[n++] = LD_IMM64_LO(BPF_REG_2, (uint64_t)pidns->st_ino);
	prog[n++] = LD_IMM64_HI((uint64_t)pidns->st_ino);
	prog[n++] = MOV64_REG(BPF_REG_3, BPF_REG_10);
	prog[n++] = ADD64_IMM(BPF_REG_3, off);
	prog[n++] = MOV64_IMM(BPF_REG_4, sizeof(struct bpf_pidns_info));
	prog[n++] = CALL(BPF_FUNC_get_ns_current_pid_tgid);
	return n;
}

/*
 * At prog[n]: bpf_map_update_elem(map, fp - 8, fp + off, BPF_ANY), the
 * key at fp-8.  The next free index.
 */
static size_t
connbpf_emit_update(struct bpf_insn *prog, size_t n, int map, int off)
{
	prog[n++] = LD_IMM64_LO(BPF_REG_1, (uint64_t)map);
	prog[n - 1].src_reg = BPF_PSEUDO_MAP_FD;
	prog[n++] = LD_IMM64_HI(0);
	prog[n++] = MOV64_REG(BPF_REG_2, BPF_REG_10);
	prog[n++] = ADD64_IMM(BPF_REG_2, -8);
	prog[n++] = MOV64_REG(BPF_REG_3, BPF_REG_10);
	prog[n++] = ADD64_IMM(BPF_REG_3, off);
	prog[n++] = MOV64_IMM(BPF_REG_4, BPF_ANY);
	prog[n++] = CALL(BPF_FUNC_map_update_elem);
	return n;
}

/*
 * The program for a map: n instructions into prog (at least
 * CONNBPF_PROG_MAX).  With pidns (tollgated's own pid namespace, as
 * /proc/self/ns/pid's device and inode), pids are recorded as that
 * namespace numbers them, and the connects of processes of other pid
 * namespaces not at all: bpf_get_ns_current_pid_tgid() answers only for
 * a process whose own namespace is that one.
 */
#define CONNBPF_PROG_MAX 40
static size_t
connbpf_program(int map, const struct stat *pidns, struct bpf_insn *prog)
{
	size_t n = 0, j_type, j_ns = 0, out;

	prog[n++] = MOV64_REG(BPF_REG_6, BPF_REG_1);
	prog[n++] = LDX_W(BPF_REG_2, BPF_REG_1, CONNBPF_CTX_TYPE);
	j_type = n;
	prog[n++] = JNE_IMM(BPF_REG_2, SOCK_STREAM, 0); /* to out */
	if (pidns != NULL) {
		n = connbpf_emit_ns(prog, n, pidns, -48);
		j_ns = n;
		prog[n++] = JNE_IMM(BPF_REG_0, 0, 0); /* to out */
	}
	prog[n++] = MOV64_REG(BPF_REG_1, BPF_REG_6);
	prog[n++] = CALL(BPF_FUNC_get_socket_cookie);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, -8);
	/* struct bpf_pidns_info {pid, tgid} reads as tgid << 32 | pid. */
	if (pidns != NULL)
		prog[n++] = LDX_DW(BPF_REG_0, BPF_REG_10, -48);
	else
		prog[n++] = CALL(BPF_FUNC_get_current_pid_tgid);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, -40);
	prog[n++] = CALL(BPF_FUNC_get_current_uid_gid);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, -32);
	prog[n++] = CALL(BPF_FUNC_ktime_get_boot_ns);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, -24);
	prog[n++] = MOV64_REG(BPF_REG_1, BPF_REG_6);
	prog[n++] = CALL(BPF_FUNC_get_netns_cookie);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, -16);
	n = connbpf_emit_update(prog, n, map, -40);
	out = n;
	prog[n++] = MOV64_IMM(BPF_REG_0, 1);
	prog[n++] = EXIT();
	prog[j_type].off = (int16_t)(out - j_type - 1);
	if (pidns != NULL)
		prog[j_ns].off = (int16_t)(out - j_ns - 1);
	return n;
}

/*
 * The exec program, for BPF_PROG_TYPE_RAW_TRACEPOINT at
 * sched_process_exec, where current is the process that has just
 * become its new program:
 *
 *	[in a pid namespace of tollgated's own:
 *	 if (bpf_get_ns_current_pid_tgid(DEV, INO, &ns, 8) != 0) return 0;]
 *	key = bpf_get_current_pid_tgid() >> 32 [or ns.tgid];
 *	val = bpf_ktime_get_boot_ns();
 *	bpf_map_update_elem(&exec_map, &key, &val, BPF_ANY);
 *	return 0;
 *
 * The key lives at fp-8, the value at fp-16, ns at fp-24.
 */
static size_t
connbpf_exec_program(int map, const struct stat *pidns, struct bpf_insn *prog)
{
	size_t n = 0, j_ns = 0, out;

	if (pidns != NULL) {
		n = connbpf_emit_ns(prog, n, pidns, -24);
		j_ns = n;
		prog[n++] = JNE_IMM(BPF_REG_0, 0, 0); /* to out */
		prog[n++] = LDX_DW(BPF_REG_0, BPF_REG_10, -24);
	} else
		prog[n++] = CALL(BPF_FUNC_get_current_pid_tgid);
	prog[n++] = RSH64_IMM(BPF_REG_0, 32);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, -8);
	prog[n++] = CALL(BPF_FUNC_ktime_get_boot_ns);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, -16);
	n = connbpf_emit_update(prog, n, map, -16);
	out = n;
	prog[n++] = MOV64_IMM(BPF_REG_0, 0);
	prog[n++] = EXIT();
	if (pidns != NULL)
		prog[j_ns].off = (int16_t)(out - j_ns - 1);
	return n;
}

/* Jumps to the SYN program's end, patched once it is known. */
#define CONNBPF_SYN_JUMPS 16
struct connbpf_jumps {
	size_t at[CONNBPF_SYN_JUMPS];
	size_t n;
};

/* prog[n]: "if reg != imm goto out" (or "== imm" when eq), out patched
 * later.  The next free index. */
static size_t
connbpf_emit_out(struct bpf_insn *prog, size_t n, struct connbpf_jumps *j,
                 int reg, int32_t imm, bool eq)
{
	/* The program has 13; more is a mistake in this file. */
	if (j->n == CONNBPF_SYN_JUMPS)
		abort();
	j->at[j->n++] = n;
	prog[n++] = eq ? JEQ_IMM(reg, imm, 0) : JNE_IMM(reg, imm, 0);
	return n;
}

/*
 * prog[n]: bpf_skb_load_bytes(ctx (r6), offset, fp + to, len), offset
 * off, or r8 + off when ihl (r8 holds the IPv4 header's length); on
 * failure to out.  The next free index.
 */
static size_t
connbpf_emit_load(struct bpf_insn *prog, size_t n, struct connbpf_jumps *j,
                  bool ihl, int off, int to, int len)
{
	prog[n++] = MOV64_REG(BPF_REG_1, BPF_REG_6);
	if (ihl) {
		prog[n++] = MOV64_REG(BPF_REG_2, BPF_REG_8);
		prog[n++] = ADD64_IMM(BPF_REG_2, off);
	} else
		prog[n++] = MOV64_IMM(BPF_REG_2, off);
	prog[n++] = MOV64_REG(BPF_REG_3, BPF_REG_10);
	prog[n++] = ADD64_IMM(BPF_REG_3, to);
	prog[n++] = MOV64_IMM(BPF_REG_4, len);
	prog[n++] = CALL(BPF_FUNC_skb_load_bytes);
	return connbpf_emit_out(prog, n, j, BPF_REG_0, 0, false);
}

/* prog[n]: r1 = the descriptor of map (a map's pseudo load).  Next. */
static size_t
connbpf_emit_map(struct bpf_insn *prog, size_t n, int map)
{
	prog[n++] = LD_IMM64_LO(BPF_REG_1, (uint64_t)map);
	prog[n - 1].src_reg = BPF_PSEUDO_MAP_FD;
	prog[n++] = LD_IMM64_HI(0);
	return n;
}

/*
 * The SYN program (see the top of this file) for the connect map cmap
 * and the SYN map smap: n instructions into prog (at least
 * CONNBPF_SYN_MAX).  r6 holds ctx, r7 the socket, r8 the IPv4 header's
 * length.  The stack: the key (struct connbpf_skey) at SYN_KEY, the
 * value (struct connbpf_sval) at SYN_VAL, the cookie to look the
 * connect record up by at SYN_COOKIE, one byte read at SYN_BYTE.
 */
#define CONNBPF_SYN_MAX 170
#define CONNBPF_SK(f)   ((int16_t)offsetof(struct bpf_sock, f))
#define SYN_KEY         (-40)
#define SYN_KEY_AT(f)   ((int16_t)(SYN_KEY + offsetof(struct connbpf_skey, f)))
#define SYN_VAL         (-96)
#define SYN_VAL_RECS    4 /* u64 of struct connbpf_val */
#define SYN_VAL_AT(f)   ((int16_t)(SYN_VAL + offsetof(struct connbpf_sval, f)))
#define SYN_COOKIE      (-104)
#define SYN_BYTE        (-112)
static size_t
connbpf_syn_program(int cmap, int smap, struct bpf_insn *prog)
{
	struct connbpf_jumps j = {.n = 0};
	size_t n = 0, to_v4, to_common, to_miss, i;
	int off;

	prog[n++] = MOV64_REG(BPF_REG_6, BPF_REG_1);
	prog[n++] = LDX_DW(BPF_REG_7, BPF_REG_6,
	                   (int16_t)offsetof(struct __sk_buff, sk));
	n = connbpf_emit_out(prog, n, &j, BPF_REG_7, 0, true);
	prog[n++] = LDX_W(BPF_REG_2, BPF_REG_7, CONNBPF_SK(state));
	n = connbpf_emit_out(prog, n, &j, BPF_REG_2, CONNBPF_TCP_SYN_SENT,
	                     false);
	/* The key and the value's sequence number start as zeros. */
	for (off = SYN_KEY; off < 0; off += 8)
		prog[n++] = ST_DW(BPF_REG_10, off, 0);
	prog[n++] = ST_DW(BPF_REG_10, SYN_VAL_AT(seq), 0);
	/* The IP version. */
	n = connbpf_emit_load(prog, n, &j, false, 0, SYN_BYTE, 1);
	prog[n++] = LDX_B(BPF_REG_2, BPF_REG_10, SYN_BYTE);
	prog[n++] = RSH64_IMM(BPF_REG_2, 4);
	to_v4 = n;
	prog[n++] = JEQ_IMM(BPF_REG_2, 4, 0);
	n = connbpf_emit_out(prog, n, &j, BPF_REG_2, 6, false);
	/* IPv6: TCP right after the fixed header, or not looked at. */
	n = connbpf_emit_load(prog, n, &j, false, 6, SYN_BYTE, 1);
	prog[n++] = LDX_B(BPF_REG_2, BPF_REG_10, SYN_BYTE);
	n = connbpf_emit_out(prog, n, &j, BPF_REG_2, IPPROTO_TCP, false);
	n = connbpf_emit_load(prog, n, &j, false, 8, SYN_KEY_AT(src), 16);
	n = connbpf_emit_load(prog, n, &j, false, 40, SYN_KEY_AT(sport), 2);
	n = connbpf_emit_load(prog, n, &j, false, 44, SYN_VAL_AT(seq), 4);
	for (i = 0; i < 4; i++) {
		prog[n++] = LDX_W(BPF_REG_2, BPF_REG_7,
		                  (int16_t)(CONNBPF_SK(dst_ip6) + 4 * i));
		prog[n++] = STX_W(BPF_REG_10, BPF_REG_2,
		                  (int16_t)(SYN_KEY_AT(dst) + 4 * i));
	}
	prog[n++] = ST_W(BPF_REG_10, SYN_KEY_AT(family), 6);
	to_common = n;
	prog[n++] = JA(0);
	/* IPv4: the header's length, then TCP. */
	prog[to_v4].off = (int16_t)(n - to_v4 - 1);
	prog[n++] = LDX_B(BPF_REG_8, BPF_REG_10, SYN_BYTE);
	prog[n++] = AND64_IMM(BPF_REG_8, 0xf);
	prog[n++] = LSH64_IMM(BPF_REG_8, 2);
	n = connbpf_emit_load(prog, n, &j, false, 9, SYN_BYTE, 1);
	prog[n++] = LDX_B(BPF_REG_2, BPF_REG_10, SYN_BYTE);
	n = connbpf_emit_out(prog, n, &j, BPF_REG_2, IPPROTO_TCP, false);
	n = connbpf_emit_load(prog, n, &j, false, 12, SYN_KEY_AT(src), 4);
	n = connbpf_emit_load(prog, n, &j, true, 0, SYN_KEY_AT(sport), 2);
	n = connbpf_emit_load(prog, n, &j, true, 4, SYN_VAL_AT(seq), 4);
	prog[n++] = LDX_W(BPF_REG_2, BPF_REG_7, CONNBPF_SK(dst_ip4));
	prog[n++] = STX_W(BPF_REG_10, BPF_REG_2, SYN_KEY_AT(dst));
	prog[n++] = ST_W(BPF_REG_10, SYN_KEY_AT(family), 4);
	/* Both: the destination port, then the record. */
	prog[to_common].off = (int16_t)(n - to_common - 1);
	prog[n++] = LDX_H(BPF_REG_2, BPF_REG_7, CONNBPF_SK(dst_port));
	prog[n++] = STX_H(BPF_REG_10, BPF_REG_2, SYN_KEY_AT(dport));
	prog[n++] = MOV64_REG(BPF_REG_1, BPF_REG_6);
	prog[n++] = CALL(BPF_FUNC_get_socket_cookie);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, SYN_COOKIE);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, SYN_VAL_AT(cookie));
	n = connbpf_emit_map(prog, n, cmap);
	prog[n++] = MOV64_REG(BPF_REG_2, BPF_REG_10);
	prog[n++] = ADD64_IMM(BPF_REG_2, SYN_COOKIE);
	prog[n++] = CALL(BPF_FUNC_map_lookup_elem);
	to_miss = n;
	prog[n++] = JEQ_IMM(BPF_REG_0, 0, 0);
	for (i = 0; i < SYN_VAL_RECS; i++) {
		prog[n++] = LDX_DW(BPF_REG_2, BPF_REG_0, (int16_t)(8 * i));
		prog[n++] = STX_DW(BPF_REG_10, BPF_REG_2,
		                   (int16_t)(SYN_VAL_AT(rec) + 8 * i));
	}
	prog[n++] = MOV64_REG(BPF_REG_1, BPF_REG_6);
	prog[n++] = CALL(BPF_FUNC_get_socket_uid);
	prog[n++] = STX_DW(BPF_REG_10, BPF_REG_0, SYN_VAL_AT(sk_uid));
	n = connbpf_emit_map(prog, n, smap);
	prog[n++] = MOV64_REG(BPF_REG_2, BPF_REG_10);
	prog[n++] = ADD64_IMM(BPF_REG_2, SYN_KEY);
	prog[n++] = MOV64_REG(BPF_REG_3, BPF_REG_10);
	prog[n++] = ADD64_IMM(BPF_REG_3, SYN_VAL);
	prog[n++] = MOV64_IMM(BPF_REG_4, BPF_ANY);
	prog[n++] = CALL(BPF_FUNC_map_update_elem);
	if (j.n == CONNBPF_SYN_JUMPS)
		abort();
	j.at[j.n++] = n;
	prog[n++] = JA(0);
	/* No connect record: no stale record under this key either. */
	prog[to_miss].off = (int16_t)(n - to_miss - 1);
	n = connbpf_emit_map(prog, n, smap);
	prog[n++] = MOV64_REG(BPF_REG_2, BPF_REG_10);
	prog[n++] = ADD64_IMM(BPF_REG_2, SYN_KEY);
	prog[n++] = CALL(BPF_FUNC_map_delete_elem);
	for (i = 0; i < j.n; i++)
		prog[j.at[i]].off = (int16_t)(n - j.at[i] - 1);
	prog[n++] = MOV64_IMM(BPF_REG_0, 1);
	prog[n++] = EXIT();
	return n;
}

static int
connbpf_map_new(const char *name, uint32_t key_size, uint32_t value_size,
                uint32_t entries, char *err, size_t errlen)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_LRU_HASH;
	attr.key_size = key_size;
	attr.value_size = value_size;
	attr.max_entries = entries;
	snprintf(attr.map_name, sizeof(attr.map_name), "%s", name);
	if ((fd = (int)connbpf_sys(BPF_MAP_CREATE, &attr)) == -1)
		snprintf(err, errlen,
		         "bpf BPF_MAP_CREATE (%s, LRU hash of %u): %s", name,
		         (unsigned)entries, strerror(errno));
	return fd;
}

/*
 * n instructions of prog, of type (and hook, for the connect programs),
 * loaded under name; the descriptor, or -1 with err saying why (the
 * verifier's last words included).
 */
static int
connbpf_load(const struct bpf_insn *prog, size_t n, enum bpf_prog_type type,
             enum bpf_attach_type hook, const char *name, char *err,
             size_t errlen)
{
	char *vlog, *nl;
	union bpf_attr attr;
	int fd, first;

	if ((vlog = calloc(1, CONNBPF_LOG_SIZE)) == NULL) {
		snprintf(err, errlen, "allocating the verifier's log: %s",
		         strerror(errno));
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.expected_attach_type = hook;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", name);
	/* Without a log first: a log that overflows its buffer fails the
	 * load (ENOSPC).  Loaded again with one only to say why not. */
	if ((fd = (int)connbpf_sys(BPF_PROG_LOAD, &attr)) == -1) {
		first = errno;
		attr.log_buf = (uint64_t)(uintptr_t)vlog;
		attr.log_size = CONNBPF_LOG_SIZE;
		attr.log_level = 1;
		if ((fd = (int)connbpf_sys(BPF_PROG_LOAD, &attr)) == -1 &&
		    errno == ENOSPC)
			/* The log outgrew its buffer: the first refusal is
			 * the one to tell, the log a part of it. */
			errno = first;
	}
	if (fd == -1) {
		/* The log's last lines say what the verifier refused. */
		while ((nl = strrchr(vlog, '\n')) != NULL && nl[1] == '\0')
			*nl = '\0';
		for (nl = vlog; *nl != '\0'; nl++)
			if (*nl == '\n')
				*nl = '|';
		snprintf(err, errlen, "bpf BPF_PROG_LOAD (%s): %s%s%s", name,
		         strerror(errno), vlog[0] != '\0' ? ": " : "",
		         vlog[0] != '\0' ? vlog : "");
	}
	free(vlog);
	return fd;
}

/* The program for hook (BPF_CGROUP_INET4_CONNECT or _INET6_), loaded. */
static int
connbpf_prog_load(int map, const struct stat *pidns, enum bpf_attach_type hook,
                  char *err, size_t errlen)
{
	struct bpf_insn prog[CONNBPF_PROG_MAX];

	return connbpf_load(prog, connbpf_program(map, pidns, prog),
	                    BPF_PROG_TYPE_CGROUP_SOCK_ADDR, hook,
	                    hook == BPF_CGROUP_INET4_CONNECT ? "tg_connect4"
	                                                     : "tg_connect6",
	                    err, errlen);
}

/*
 * The exec map and program, the program attached to sched_process_exec
 * (BPF_RAW_TRACEPOINT_OPEN: no tracefs needed; detached when the
 * descriptor is closed).  0, or -1 with err saying why, nothing kept.
 */
static int
connbpf_exec_open(struct connbpf *cb, const struct stat *pidns, char *err,
                  size_t errlen)
{
	struct bpf_insn prog[CONNBPF_PROG_MAX];
	union bpf_attr attr;
	int fd;

	if ((cb->exec_map =
	         connbpf_map_new("tg_exec", sizeof(uint64_t), sizeof(uint64_t),
	                         CONNBPF_MAP_ENTRIES, err, errlen)) == -1)
		return -1;
	fd = connbpf_load(prog, connbpf_exec_program(cb->exec_map, pidns, prog),
	                  BPF_PROG_TYPE_RAW_TRACEPOINT, 0, "tg_exec", err,
	                  errlen);
	if (fd == -1)
		goto fail;
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.name = (uint64_t)(uintptr_t) "sched_process_exec";
	attr.raw_tracepoint.prog_fd = (uint32_t)fd;
	cb->exec_link = (int)connbpf_sys(BPF_RAW_TRACEPOINT_OPEN, &attr);
	if (cb->exec_link == -1)
		snprintf(err, errlen,
		         "bpf BPF_RAW_TRACEPOINT_OPEN (sched_process_exec): %s",
		         strerror(errno));
	/* The attachment holds the program from now on. */
	close(fd);
	if (cb->exec_link != -1)
		return 0;
fail:
	close(cb->exec_map);
	cb->exec_map = -1;
	return -1;
}

/*
 * The SYN map and program, the program attached at egress of cgroup
 * (where names it).  0, or -1 with err saying why, nothing kept.
 */
static int
connbpf_syn_open(struct connbpf *cb, int cgroup, const char *where, char *err,
                 size_t errlen)
{
	struct bpf_insn prog[CONNBPF_SYN_MAX];
	socklen_t sl = sizeof(cb->netns);
	int fd, s;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cb->netns, &sl) == -1) {
		snprintf(err, errlen, "getsockopt SO_NETNS_COOKIE: %s",
		         strerror(errno));
		close(s);
		return -1;
	}
	close(s);
	if ((cb->syn_map =
	         connbpf_map_new("tg_syn", sizeof(struct connbpf_skey),
	                         sizeof(struct connbpf_sval),
	                         CONNBPF_SYN_ENTRIES, err, errlen)) == -1)
		return -1;
	fd = connbpf_load(prog, connbpf_syn_program(cb->map, cb->syn_map, prog),
	                  BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS,
	                  "tg_syn", err, errlen);
	if (fd != -1) {
		cb->syn_link = connbpf_attach(
		    fd, cgroup, BPF_CGROUP_INET_EGRESS, where, err, errlen);
		close(fd);
		if (cb->syn_link != -1)
			return 0;
	}
	close(cb->syn_map);
	cb->syn_map = -1;
	return -1;
}

/* The SYN program off again (its self-test failed). */
static void
connbpf_syn_close(struct connbpf *cb)
{
	if (cb->syn_link != -1)
		close(cb->syn_link);
	if (cb->syn_map != -1)
		close(cb->syn_map);
	cb->syn_link = cb->syn_map = -1;
}

/* Undo \040-style escapes of a mountinfo field, in place. */
static void
connbpf_unescape(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++, w++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			            (s[3] - '0'));
			s += 3;
		} else
			*w = *s;
	}
	*w = '\0';
}

/*
 * Where a cgroup v2 hierarchy is mounted according to mountinfo, into
 * path after prefix; 0, or -1 (err says why).
 */
static int
connbpf_cgroup2_in(const char *mountinfo, const char *prefix, char *path,
                   size_t len, char *err, size_t errlen)
{
	char line[CONNBPF_LINE_MAX], *f[5], *dash, *save, *fs;
	FILE *fp;
	int i, found = -1;

	if ((fp = fopen(mountinfo, "re")) == NULL) {
		snprintf(err, errlen, "open %s: %s", mountinfo,
		         strerror(errno));
		return -1;
	}
	while (found == -1 && fgets(line, sizeof(line), fp) != NULL) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - FSTYPE ..." */
		if ((dash = strstr(line, " - ")) == NULL)
			continue;
		*dash = '\0';
		fs = strtok_r(dash + 3, " \n", &save);
		if (fs == NULL || strcmp(fs, "cgroup2") != 0)
			continue;
		f[0] = strtok_r(line, " ", &save);
		for (i = 1; i < 5 && f[i - 1] != NULL; i++)
			f[i] = strtok_r(NULL, " ", &save);
		if (i < 5 || f[4] == NULL)
			continue;
		connbpf_unescape(f[4]);
		if ((size_t)snprintf(path, len, "%s%s", prefix, f[4]) < len)
			found = 0;
	}
	fclose(fp);
	if (found == -1)
		snprintf(err, errlen, "no cgroup2 file system in %s",
		         mountinfo);
	return found;
}

/*
 * A cgroup v2 hierarchy of our own, mounted nowhere (fsopen, fsmount):
 * the same cgroups as anyone's.  The directory's descriptor, or -1.
 */
static int
connbpf_cgroup2_private(char *err, size_t errlen)
{
	int fs = -1, mnt = -1, fd = -1;
	const char *what = "fsopen cgroup2";

	if ((fs = fsopen("cgroup2", FSOPEN_CLOEXEC)) == -1)
		goto out;
	what = "fsconfig FSCONFIG_CMD_CREATE (cgroup2)";
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == -1)
		goto out;
	what = "fsmount (cgroup2)";
	if ((mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0)) == -1)
		goto out;
	what = "opening the cgroup2 root";
	fd = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
out:
	if (fd == -1)
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
	if (mnt != -1)
		close(mnt);
	if (fs != -1)
		close(fs);
	return fd;
}

/*
 * The root of the cgroup v2 hierarchy, opened, and a name for it in
 * where: where this mount namespace has it, else (`ip netns exec`
 * mounts a sysfs of its own over /sys, hiding the cgroup file systems)
 * a mount of our own.  The descriptor, or -1.
 */
static int
connbpf_cgroup2(char *where, size_t len, char *err, size_t errlen)
{
	char why[CONNBPF_LINE_MAX];
	int fd;

	if (connbpf_cgroup2_in(CONNBPF_MOUNTINFO, "", where, len, why,
	                       sizeof(why)) == 0) {
		if ((fd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
		    -1)
			snprintf(err, errlen, "open %s: %s", where,
			         strerror(errno));
		return fd;
	}
	snprintf(where, len, "the cgroup2 root");
	if ((fd = connbpf_cgroup2_private(err, errlen)) == -1)
		snprintf(err + strlen(err), errlen - strlen(err), " (%s)", why);
	return fd;
}

static int
connbpf_attach(int prog, int cgroup, enum bpf_attach_type hook,
               const char *where, char *err, size_t errlen)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (uint32_t)prog;
	attr.link_create.target_fd = (uint32_t)cgroup;
	attr.link_create.attach_type = hook;
	if ((fd = (int)connbpf_sys(BPF_LINK_CREATE, &attr)) == -1)
		snprintf(err, errlen, "bpf BPF_LINK_CREATE (%s on %s): %s",
		         hook == BPF_CGROUP_INET4_CONNECT   ? "connect4"
		         : hook == BPF_CGROUP_INET6_CONNECT ? "connect6"
		                                            : "egress",
		         where, strerror(errno));
	return fd;
}

int
connbpf_save_syn(const struct connbpf *cb, int lfd)
{
	int one = 1;

	if (!connbpf_syn_tracked(cb))
		return 0;
	return setsockopt(lfd, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof(one));
}

/*
 * Whether the SYN of tollgated's own connected socket cfd (to dst, with
 * cookie) was filed under its address pair; when not, the SYN program is
 * turned off with a warning (lookups go by sock_diag then).
 */
static void
connbpf_syn_selftest(struct connbpf *cb, int lfd, const struct sockaddr *dst,
                     uint64_t cookie, const char *fam)
{
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	struct sockaddr_storage peer;
	socklen_t sl = sizeof(peer);
	struct connbpf_rec rec;
	const char *why;
	bool fits = false;
	int afd = -1, r;

	/* The connect() has returned: its connection waits, unless it
	 * failed. */
	if ((r = poll(&pfd, 1, CONNBPF_SELFTEST_MS)) <= 0)
		why = r == 0 ? "the connection never came" : strerror(errno);
	else if ((afd = accept4(lfd, (struct sockaddr *)&peer, &sl,
	                        SOCK_CLOEXEC)) == -1)
		why = strerror(errno);
	else if ((r = connbpf_syn_take(cb, afd, (struct sockaddr *)&peer, dst,
	                               &rec)) == -1)
		why = strerror(errno);
	else if (r == 0)
		why = "no record under its addresses";
	else if (rec.tgid != getpid() || rec.cookie != cookie)
		why = "the record names another socket";
	else
		fits = true;
	if (afd != -1)
		close(afd);
	if (fits)
		return;
	log_warn("connect tracking: self-test: the SYN of a %s connect() of "
	         "tollgated's own: %s; the SYN program is off, each "
	         "connection is found by sock_diag first",
	         fam, why);
	connbpf_syn_close(cb);
}

/*
 * A connect() of our own, from family's loopback to a listener there:
 * 1 when the map names this process for it, 0 when it names another or
 * none (why in err), -1 when the test itself could not be made.
 */
static int
connbpf_selftest(struct connbpf *cb, int family, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct connbpf_rec rec;
	socklen_t sl;
	uint64_t cookie;
	int lfd = -1, cfd = -1, r = -1;
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		in6->sin6_addr = in6addr_loopback;
	sl = family == AF_INET ? sizeof(*in) : sizeof(*in6);
	if ((lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connbpf_save_syn(cb, lfd) == -1 ||
	    bind(lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&ss, &sl) == -1 ||
	    (cfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "self-test: a %s loopback listener: %s",
		         fam, strerror(errno));
		goto out;
	}
	/* The program runs before the connect itself: even a failed one is
	 * recorded. */
	(void)connect(cfd, (struct sockaddr *)&ss, sl);
	sl = sizeof(cookie);
	if (getsockopt(cfd, SOL_SOCKET, SO_COOKIE, &cookie, &sl) == -1) {
		snprintf(err, errlen, "self-test: getsockopt SO_COOKIE: %s",
		         strerror(errno));
		goto out;
	}
	switch (connbpf_lookup(cb, cookie, &rec)) {
	case -1:
		snprintf(err, errlen, "self-test: looking up a cookie: %s",
		         strerror(errno));
		goto out;
	case 0:
		snprintf(err, errlen,
		         "self-test: a %s connect() of tollgated's own was not "
		         "recorded (its cgroup is not under the root the "
		         "program is attached to?)",
		         fam);
		r = 0;
		goto out;
	}
	if (rec.tgid != getpid()) {
		snprintf(err, errlen,
		         "self-test: the program names pid %ld for tollgated's "
		         "own connect(), tollgated is pid %ld here: it runs in "
		         "another pid namespace than the initial one",
		         (long)rec.tgid, (long)getpid());
		r = 0;
		goto out;
	}
	r = 1;
	if (cb->syn_map != -1)
		connbpf_syn_selftest(cb, lfd, (struct sockaddr *)&ss, cookie,
		                     fam);
out:
	if (lfd != -1)
		close(lfd);
	if (cfd != -1)
		close(cfd);
	return r;
}

struct connbpf *
connbpf_open(char *err, size_t errlen)
{
	static const enum bpf_attach_type hooks[CONNBPF_N_HOOKS] = {
	    BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT};
	char where[CONNBPF_LINE_MAX], xerr[CONNBPF_LOG_SIZE + 256];
	struct connbpf *cb;
	struct stat ns;
	int cgroup = -1, prog, i, v6;

	if ((cb = calloc(1, sizeof(*cb))) == NULL) {
		snprintf(err, errlen, "allocating: %s", strerror(errno));
		return NULL;
	}
	cb->map = cb->exec_map = cb->exec_link = -1;
	cb->syn_map = cb->syn_link = -1;
	for (i = 0; i < CONNBPF_N_HOOKS; i++)
		cb->links[i] = -1;
	/* Not the initial pid namespace: its pids, not the host's. */
	if (stat("/proc/self/ns/pid", &ns) == -1) {
		snprintf(err, errlen, "stat /proc/self/ns/pid: %s",
		         strerror(errno));
		goto fail;
	}
	if ((cb->map = connbpf_map_new(
	         "tg_connect", sizeof(uint64_t), sizeof(struct connbpf_val),
	         CONNBPF_MAP_ENTRIES, err, errlen)) == -1 ||
	    (cgroup = connbpf_cgroup2(where, sizeof(where), err, errlen)) == -1)
		goto fail;
	for (i = 0; i < CONNBPF_N_HOOKS; i++) {
		prog = connbpf_prog_load(
		    cb->map, ns.st_ino == CONNBPF_INIT_PIDNS ? NULL : &ns,
		    hooks[i], err, errlen);
		if (prog == -1)
			goto fail;
		/* The link holds the program from now on. */
		cb->links[i] =
		    connbpf_attach(prog, cgroup, hooks[i], where, err, errlen);
		close(prog);
		if (cb->links[i] == -1)
			goto fail;
	}
	/* Without it, every lookup asks sock_diag for the socket first. */
	if (connbpf_syn_open(cb, cgroup, where, xerr, sizeof(xerr)) == -1)
		log_warn("connect tracking: the SYN program is off, each "
		         "connection is found by sock_diag first: %s",
		         xerr);
	close(cgroup);
	cgroup = -1;
	if (connbpf_selftest(cb, AF_INET, err, errlen) != 1)
		goto fail;
	/* A host without IPv6 has nothing to test there. */
	if ((v6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
		close(v6);
		if (connbpf_selftest(cb, AF_INET6, err, errlen) != 1)
			goto fail;
	}
	/* Without it, connect tracking still names the caller of connect(),
	 * only not a program it has become since. */
	if (connbpf_exec_open(cb, ns.st_ino == CONNBPF_INIT_PIDNS ? NULL : &ns,
	                      xerr, sizeof(xerr)) == -1)
		log_warn("connect tracking: exec tracking off, a process that "
		         "execs after connect() is named as its new program: "
		         "%s",
		         xerr);
	return cb;

fail:
	if (cgroup != -1)
		close(cgroup);
	connbpf_close(cb);
	return NULL;
}

void
connbpf_close(struct connbpf *cb)
{
	int i;

	if (cb == NULL)
		return;
	for (i = 0; i < CONNBPF_N_HOOKS; i++)
		if (cb->links[i] != -1)
			close(cb->links[i]);
	if (cb->exec_link != -1)
		close(cb->exec_link);
	if (cb->exec_map != -1)
		close(cb->exec_map);
	connbpf_syn_close(cb);
	if (cb->map != -1)
		close(cb->map);
	free(cb);
}

/* A value as the programs store it, as struct connbpf_rec. */
static void
connbpf_rec_of(const struct connbpf_val *v, struct connbpf_rec *rec)
{
	rec->tgid = (pid_t)(v->pid_tgid >> 32);
	rec->tid = (pid_t)(v->pid_tgid & 0xffffffffu);
	rec->uid = (uid_t)(v->uid_gid & 0xffffffffu);
	rec->gid = (gid_t)(v->uid_gid >> 32);
	rec->boot_ns = v->boot_ns;
}

int
connbpf_lookup(struct connbpf *cb, uint64_t cookie, struct connbpf_rec *rec)
{
	struct connbpf_val v;
	union bpf_attr attr;

	if (cb == NULL)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)cb->map;
	attr.key = (uint64_t)(uintptr_t)&cookie;
	attr.value = (uint64_t)(uintptr_t)&v;
	if (connbpf_sys(BPF_MAP_LOOKUP_ELEM, &attr) == -1) {
		if (errno == ENOENT)
			return 0;
		log_error("connbpf: looking up socket cookie %llu: %s",
		          (unsigned long long)cookie, strerror(errno));
		return -1;
	}
	connbpf_rec_of(&v, rec);
	rec->cookie = cookie;
	rec->sk_uid = (uid_t)-1;
	return 1;
}

/* One end's address into the key's form: IPv4 (an IPv4-mapped IPv6
 * address too) as 4 bytes and family 4.  -1 for another family. */
static int
connbpf_skey_addr(const struct sockaddr *sa, uint8_t ip[16], uint16_t *port,
                  uint32_t *family)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		memcpy(ip, &in->sin_addr, 4);
		*port = in->sin_port;
		*family = 4;
	} else if (sa->sa_family == AF_INET6 &&
	           IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		memcpy(ip, &in6->sin6_addr.s6_addr[12], 4);
		*port = in6->sin6_port;
		*family = 4;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(ip, &in6->sin6_addr, 16);
		*port = in6->sin6_port;
		*family = 6;
	} else
		return -1;
	return 0;
}

/*
 * The sequence number of the SYN that made the accepted socket fd, from
 * its saved headers (TCP_SAVE_SYN on the listener): 0, or -1 when there
 * are none (the listener did not save it, a SYN cookie, read already) or
 * they are not an IPv4 or IPv6 header with TCP right after it.
 */
static int
connbpf_saved_seq(int fd, uint8_t seq[4])
{
	uint8_t syn[CONNBPF_SAVED_SYN_MAX];
	socklen_t sl = sizeof(syn);
	size_t at;

	if (getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, syn, &sl) == -1 ||
	    sl < 1)
		return -1;
	if (syn[0] >> 4 == 4 && syn[9] == IPPROTO_TCP)
		at = (size_t)(syn[0] & 0xf) * 4;
	else if (syn[0] >> 4 == 6 && sl >= 40 && syn[6] == IPPROTO_TCP)
		at = 40;
	else
		return -1;
	if (at + 8 > (size_t)sl)
		return -1;
	memcpy(seq, syn + at + 4, 4);
	return 0;
}

int
connbpf_syn_take(struct connbpf *cb, int fd, const struct sockaddr *client,
                 const struct sockaddr *dst, struct connbpf_rec *rec)
{
	struct connbpf_skey k;
	struct connbpf_sval v;
	union bpf_attr attr;
	uint32_t fdst;
	uint8_t seq[4];

	if (cb == NULL || cb->syn_map == -1 || connbpf_saved_seq(fd, seq) == -1)
		return 0;
	memset(&k, 0, sizeof(k));
	if (connbpf_skey_addr(client, k.src, &k.sport, &k.family) == -1 ||
	    connbpf_skey_addr(dst, k.dst, &k.dport, &fdst) == -1 ||
	    fdst != k.family)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)cb->syn_map;
	attr.key = (uint64_t)(uintptr_t)&k;
	attr.value = (uint64_t)(uintptr_t)&v;
	if (connbpf_sys(BPF_MAP_LOOKUP_AND_DELETE_ELEM, &attr) == -1) {
		if (errno == ENOENT)
			return 0;
		log_error("connbpf: taking a SYN record: %s", strerror(errno));
		return -1;
	}
	/* Under these addresses, but another connection's SYN (one never
	 * redirected, whose record nobody took, or one of another network
	 * namespace): not this one's. */
	if (memcmp(v.seq, seq, sizeof(seq)) != 0 || v.rec.netns != cb->netns)
		return 0;
	connbpf_rec_of(&v.rec, rec);
	rec->cookie = v.cookie;
	rec->sk_uid = (uid_t)(v.sk_uid & 0xffffffffu);
	__atomic_fetch_add(&cb->syn_taken, 1, __ATOMIC_RELAXED);
	return 1;
}

bool
connbpf_syn_tracked(const struct connbpf *cb)
{
	return cb != NULL && cb->syn_link != -1;
}

int
connbpf_exec_lookup(struct connbpf *cb, pid_t tgid, uint64_t *boot_ns)
{
	union bpf_attr attr;
	uint64_t key = (uint64_t)(uint32_t)tgid;

	if (cb == NULL || cb->exec_map == -1)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)cb->exec_map;
	attr.key = (uint64_t)(uintptr_t)&key;
	attr.value = (uint64_t)(uintptr_t)boot_ns;
	if (connbpf_sys(BPF_MAP_LOOKUP_ELEM, &attr) == -1) {
		if (errno == ENOENT)
			return 0;
		log_error("connbpf: looking up the exec of pid %ld: %s",
		          (long)tgid, strerror(errno));
		return -1;
	}
	return 1;
}

bool
connbpf_exec_tracked(const struct connbpf *cb)
{
	return cb != NULL && cb->exec_link != -1;
}

void
connbpf_note(struct connbpf *cb, bool answered)
{
	if (cb == NULL)
		return;
	__atomic_fetch_add(answered ? &cb->answered : &cb->fallback, 1,
	                   __ATOMIC_RELAXED);
}

void
connbpf_stats(const struct connbpf *cb, struct connbpf_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (cb == NULL)
		return;
	st->answered = __atomic_load_n(&cb->answered, __ATOMIC_RELAXED);
	st->fallback = __atomic_load_n(&cb->fallback, __ATOMIC_RELAXED);
	st->syn_taken = __atomic_load_n(&cb->syn_taken, __ATOMIC_RELAXED);
}
