/*
 * test_ctl.c - the control protocol (common/ctl.h): words quoted and read
 * back, requests and replies parsed or refused with the right code, lines
 * over the limit, and the client's side against a real unix socket.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/ctl.h"
#include "common/ctl_client.h"
#include "common/log.h"

/* Values that need every kind of quoting, and some that need none. */
static const char *const values[] = {
    "plain",
    "/usr/bin/curl",
    "",
    "two words",
    "say \"hi\"",
    "back\\slash",
    "tab\there",
    "new\nline",
    "del\x7f",
    "a=b",
    "=",
    "\"",
    "\\",
    "caf\xc3\xa9 \xe2\x80\x94 \xff\xfe",
    "*.example.com",
    "list:ads",
};

#define N_VALUES (sizeof(values) / sizeof(values[0]))

static int
split(char *line, struct ctl_word *w, size_t max)
{
	char err[CTL_ERRLEN];

	return ctl_split(line, strlen(line), w, max, err, sizeof(err));
}

static void
test_words_round_trip(void **state)
{
	char buf[4096];
	struct ctl_word w[CTL_WORDS_MAX];
	struct ctl_line l;
	size_t i;

	for (i = 0; i < N_VALUES; i++) {
		ctl_line_init(&l, buf, sizeof(buf));
		ctl_put_word(&l, "VERB");
		ctl_put_word(&l, values[i]);
		ctl_put_kv(&l, "key", values[i]);
		assert_false(l.over);
		assert_null(strchr(buf, '\n'));
		assert_int_equal(split(buf, w, CTL_WORDS_MAX), 3);
		assert_null(w[0].key);
		assert_string_equal(w[0].value, "VERB");
		assert_null(w[1].key);
		assert_string_equal(w[1].value, values[i]);
		assert_string_equal(w[2].key, "key");
		assert_string_equal(w[2].value, values[i]);
	}
}

static void
test_every_byte_round_trips(void **state)
{
	char value[256], buf[2048];
	struct ctl_word w[4];
	struct ctl_line l;
	int c;

	for (c = 1; c < 256; c++)
		value[c - 1] = (char)c;
	value[255] = '\0';
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_kv(&l, "all", value);
	assert_int_equal(split(buf, w, 4), 1);
	assert_string_equal(w[0].value, value);
}

/* The log and the control socket quote a value the same way. */
static void
test_quoting_is_log_kv(void **state)
{
	char a[1024], b[1024];
	struct ctl_line l;
	size_t i, off;

	for (i = 0; i < N_VALUES; i++) {
		ctl_line_init(&l, a, sizeof(a));
		ctl_put_kv(&l, "k", values[i]);
		off = 0;
		b[0] = '\0';
		log_kv(b, sizeof(b), &off, "k", values[i]);
		assert_string_equal(a, b);
	}
}

static void
test_split_spacing_and_cr(void **state)
{
	char line[] = "  STATUS   a=\"x y\"  b  \r";
	struct ctl_word w[8];

	assert_int_equal(split(line, w, 8), 3);
	assert_string_equal(w[0].value, "STATUS");
	assert_string_equal(w[1].key, "a");
	assert_string_equal(w[1].value, "x y");
	assert_string_equal(w[2].value, "b");
}

static void
test_split_refuses_bad_words(void **state)
{
	static const char *const bad[] = {
	    "A \"unclosed",    "A \"x\"y",   "A a\"b",      "A a\\b",
	    "A \"bad \\q\"",   "A \"\\x0\"", "A \"\\x00\"", "A =v",
	    "A \"tab\there\"", "A x\x01",    "A \"\\",
	};
	struct ctl_word w[8];
	char line[64], err[CTL_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		err[0] = '\0';
		assert_int_equal(
		    ctl_split(line, strlen(line), w, 8, err, sizeof(err)), -1);
		assert_true(strlen(err) > 0);
	}
	/* More words than room. */
	snprintf(line, sizeof(line), "a b c d e");
	assert_int_equal(ctl_split(line, strlen(line), w, 4, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "more than 4 words"));
}

static int
parse(const char *line, struct ctl_req *req, enum ctl_code *code)
{
	char err[CTL_ERRLEN];

	return ctl_req_parse(line, strlen(line), req, code, err, sizeof(err));
}

static void
test_requests(void **state)
{
	struct ctl_req req;
	enum ctl_code code;

	assert_int_equal(parse("STATUS", &req, &code), 0);
	assert_int_equal(req.verb, CTL_STATUS);
	assert_false(ctl_verb_needs_admin(req.verb));
	ctl_req_free(&req);

	assert_int_equal(parse("reload\r", &req, &code), 0);
	assert_int_equal(req.verb, CTL_RELOAD);
	assert_true(ctl_verb_needs_admin(req.verb));
	ctl_req_free(&req);

	assert_int_equal(parse("RULE-DEL 12", &req, &code), 0);
	assert_int_equal(req.verb, CTL_RULE_DEL);
	assert_int_equal(req.id, 12);
	ctl_req_free(&req);

	assert_int_equal(parse("RULE-ENABLE 9223372036854775807", &req, &code),
	                 0);
	assert_int_equal(req.id, INT64_MAX);
	ctl_req_free(&req);

	assert_int_equal(parse("RULE-ADD app=/usr/bin/curl dest=*.example.com "
	                       "note=\"work proxy\"",
	                       &req, &code),
	                 0);
	assert_int_equal(req.verb, CTL_RULE_ADD);
	assert_string_equal(req.fields, "app=/usr/bin/curl dest=*.example.com "
	                                "note=\"work proxy\"");
	ctl_req_free(&req);

	assert_int_equal(
	    parse("RULE-EDIT  7   action=deny note=\"a \\\"b\\\"\"", &req,
	          &code),
	    0);
	assert_int_equal(req.verb, CTL_RULE_EDIT);
	assert_int_equal(req.id, 7);
	assert_string_equal(req.fields, "action=deny note=\"a \\\"b\\\"\"");
	ctl_req_free(&req);

	assert_int_equal(parse("IMPORT 3", &req, &code), 0);
	assert_int_equal(req.verb, CTL_IMPORT);
	assert_int_equal(req.n, 3);
	ctl_req_free(&req);

	assert_int_equal(parse("IMPORT 0", &req, &code), 0);
	assert_int_equal(req.n, 0);
	ctl_req_free(&req);
}

static void
test_bad_requests(void **state)
{
	static const struct {
		const char *line;
		enum ctl_code code;
		const char *says;
	} bad[] = {
	    {"", CTL_E_USAGE, "empty request"},
	    {"   ", CTL_E_USAGE, "empty request"},
	    {"HELLO", CTL_E_USAGE, "unknown verb \"HELLO\""},
	    {"verb=STATUS", CTL_E_USAGE, "unknown verb"},
	    {"STATUS now", CTL_E_USAGE, "takes no arguments"},
	    {"RULE-DEL", CTL_E_USAGE, "RULE-DEL ID"},
	    {"RULE-DEL 0", CTL_E_USAGE, "positive"},
	    {"RULE-DEL -1", CTL_E_USAGE, "positive"},
	    {"RULE-DEL 012", CTL_E_USAGE, "positive"},
	    {"RULE-DEL 1x", CTL_E_USAGE, "positive"},
	    {"RULE-DEL 9223372036854775808", CTL_E_USAGE, "positive"},
	    {"RULE-DEL 1 2", CTL_E_USAGE, "RULE-DEL ID"},
	    {"RULE-DEL id=1", CTL_E_USAGE, "RULE-DEL ID"},
	    {"RULE-ADD", CTL_E_USAGE, "KEY=VALUE"},
	    {"RULE-ADD app=* deny", CTL_E_USAGE, "\"deny\" is not"},
	    {"RULE-EDIT 3", CTL_E_USAGE, "KEY=VALUE"},
	    {"RULE-EDIT app=*", CTL_E_USAGE, "RULE-EDIT ID"},
	    {"IMPORT", CTL_E_USAGE, "IMPORT N"},
	    {"IMPORT -1", CTL_E_USAGE, "IMPORT N"},
	    {"IMPORT ten", CTL_E_USAGE, "IMPORT N"},
	    {"IMPORT 1100001", CTL_E_TOOLONG, "more than"},
	    {"IMPORT 99999999999999999999", CTL_E_TOOLONG, "more than"},
	    {"RULE-ADD note=\"open", CTL_E_USAGE, "not closed"},
	    {"STATUS\x01", CTL_E_USAGE, "control byte 0x01"},
	};
	struct ctl_req req;
	enum ctl_code code;
	char err[CTL_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ctl_req_parse(bad[i].line, strlen(bad[i].line),
		                               &req, &code, err, sizeof(err)),
		                 -1);
		assert_int_equal(code, bad[i].code);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("\"%s\": \"%s\" does not say \"%s\"",
			         bad[i].line, err, bad[i].says);
		assert_null(req.buf);
	}
	/* A NUL inside the line is a control byte, not its end. */
	assert_int_equal(
	    ctl_req_parse("STATUS\0x", 8, &req, &code, err, sizeof(err)), -1);
	assert_int_equal(code, CTL_E_USAGE);
}

static void
test_line_limit(void **state)
{
	struct ctl_req req;
	enum ctl_code code;
	char err[CTL_ERRLEN], *line;

	line = malloc(CTL_LINE_MAX + 2);
	assert_non_null(line);
	/* Exactly the limit is a line... */
	memset(line, ' ', CTL_LINE_MAX);
	memcpy(line, "STATUS", 6);
	assert_int_equal(
	    ctl_req_parse(line, CTL_LINE_MAX, &req, &code, err, sizeof(err)),
	    0);
	ctl_req_free(&req);
	/* ...one byte more is not, and is said so. */
	line[CTL_LINE_MAX] = ' ';
	assert_int_equal(ctl_req_parse(line, CTL_LINE_MAX + 1, &req, &code, err,
	                               sizeof(err)),
	                 -1);
	assert_int_equal(code, CTL_E_TOOLONG);
	assert_non_null(strstr(err, "limit"));
	free(line);
}

static void
test_building_past_the_limit(void **state)
{
	struct ctl_line l;
	char *buf, *big;

	buf = malloc(CTL_LINE_MAX + 2);
	big = malloc(CTL_LINE_MAX);
	assert_non_null(buf);
	assert_non_null(big);
	memset(big, 'x', CTL_LINE_MAX - 1);
	big[CTL_LINE_MAX - 1] = '\0';
	ctl_line_init(&l, buf, CTL_LINE_MAX + 2);
	ctl_put_word(&l, "OK");
	ctl_put_kv(&l, "big", big);
	assert_true(l.over);
	assert_int_equal(ctl_line_end(&l), -1);
	assert_true(strlen(buf) <= CTL_LINE_MAX);
	/* A small buffer overflows safely too. */
	ctl_line_init(&l, buf, 8);
	ctl_put_kv(&l, "key", "a value");
	assert_true(l.over);
	assert_true(strlen(buf) < 8);
	/* Raw text with a newline could not be one line. */
	ctl_line_init(&l, buf, 64);
	ctl_put_raw(&l, "RULE-ADD app=*\nSTATUS");
	assert_int_equal(ctl_line_end(&l), -1);
	free(big);
	free(buf);
}

static int
reply(const char *line, struct ctl_reply *rep)
{
	char err[CTL_ERRLEN];

	return ctl_reply_parse(line, strlen(line), rep, err, sizeof(err));
}

static void
test_replies(void **state)
{
	struct ctl_reply rep;

	assert_int_equal(reply("OK", &rep), 0);
	assert_true(rep.ok);
	assert_int_equal(rep.n, 0);
	ctl_reply_free(&rep);

	assert_int_equal(reply("OK id=12 note=\"a b\"\r", &rep), 0);
	assert_true(rep.ok);
	assert_int_equal(rep.n, 2);
	assert_string_equal(ctl_reply_get(&rep, "id"), "12");
	assert_string_equal(ctl_reply_get(&rep, "note"), "a b");
	assert_null(ctl_reply_get(&rep, "rules"));
	ctl_reply_free(&rep);

	assert_int_equal(reply("ERR perm RULE-ADD needs root", &rep), 0);
	assert_false(rep.ok);
	assert_int_equal(rep.code, CTL_E_PERM);
	assert_string_equal(rep.codestr, "perm");
	assert_string_equal(rep.msg, "RULE-ADD needs root");
	ctl_reply_free(&rep);

	/* A code from a newer daemon is kept as text. */
	assert_int_equal(reply("ERR busy later", &rep), 0);
	assert_int_equal(rep.code, -1);
	assert_string_equal(rep.codestr, "busy");
	ctl_reply_free(&rep);

	assert_int_equal(reply("ERR notfound", &rep), 0);
	assert_int_equal(rep.code, CTL_E_NOTFOUND);
	assert_string_equal(rep.msg, "");
	ctl_reply_free(&rep);
}

static void
test_bad_replies(void **state)
{
	static const char *const bad[] = {
	    "",      "OKAY",         "ok",          "ERR",
	    "ERR ",  "OK id",        "OK a=\"open", "ERR perm a\tb",
	    "HELLO", "OK id=1 \x01", "ERR x y\x7f",
	};
	struct ctl_reply rep;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(reply(bad[i], &rep), -1);
		assert_null(rep.buf);
	}
}

static void
test_err_lines(void **state)
{
	char buf[CTL_MSG_MAX + 64], long_msg[4000];
	struct ctl_reply rep;
	size_t n;

	n = ctl_fmt_err(buf, sizeof(buf), CTL_E_INVALID, "dest: \"%s\" bad",
	                "a\nb\x01");
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "ERR invalid dest: \"a?b?\" bad\n");
	assert_int_equal(reply(buf, &rep), -1); /* the "\n" is no part */
	assert_int_equal(ctl_reply_parse(buf, n - 1, &rep, long_msg, 64), 0);
	assert_int_equal(rep.code, CTL_E_INVALID);
	assert_string_equal(rep.msg, "dest: \"a?b?\" bad");

	memset(long_msg, 'm', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	n = ctl_fmt_err(buf, 64, CTL_E_INTERNAL, "%s", long_msg);
	assert_int_equal(n, 63);
	assert_int_equal(buf[62], '\n');
	assert_int_equal(ctl_code_parse("toolong"), CTL_E_TOOLONG);
	assert_int_equal(ctl_code_parse("nope"), -1);
	assert_string_equal(ctl_code_name(CTL_E_NOTFOUND), "notfound");
}

/* A tiny server: for each connection, answer each line with script. */
static pid_t
serve(const char *path, const char *script, bool read_first)
{
	struct sockaddr_un sun;
	char buf[256];
	int fd, c;
	pid_t pid;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		close(fd);
		return pid;
	}
	c = accept(fd, NULL, NULL);
	if (c >= 0) {
		if (read_first)
			(void)!read(c, buf, sizeof(buf));
		if (script != NULL)
			(void)!write(c, script, strlen(script));
		sleep(2);
	}
	_exit(0);
}

static void
test_client(void **state)
{
	char path[64], err[CTL_ERRLEN];
	struct ctl_reply rep;
	pid_t pid;
	int fd, sfd;
	struct sockaddr_un sun;

	snprintf(path, sizeof(path), "/tmp/tg-test-ctl-%d.sock", (int)getpid());
	unlink(path);

	/* Nothing there: not running, and said so. */
	assert_int_equal(ctl_call(path, "STATUS", &rep, err, sizeof(err)),
	                 CTL_DOWN);
	assert_non_null(strstr(err, "tollgated is not running (no socket at"));

	/* A socket file nobody listens on: not running either. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	sfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(sfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(sfd);
	assert_int_equal(ctl_call(path, "STATUS", &rep, err, sizeof(err)),
	                 CTL_DOWN);
	assert_non_null(strstr(err, "not running"));

	/* One request, one reply; the second line stays unread. */
	pid = serve(path, "OK pid=1 admin=no\nOK second=1\n", true);
	assert_int_equal(ctl_call(path, "STATUS", &rep, err, sizeof(err)), 0);
	assert_true(rep.ok);
	assert_string_equal(ctl_reply_get(&rep, "admin"), "no");
	ctl_reply_free(&rep);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);

	/* Two replies read one at a time. */
	pid = serve(path, "ERR perm no\nOK x=1\n", false);
	fd = ctl_connect(path, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(ctl_recv_reply(fd, &rep, 2000, err, sizeof(err)), 0);
	assert_false(rep.ok);
	assert_int_equal(rep.code, CTL_E_PERM);
	assert_int_equal(ctl_recv_reply(fd, &rep, 2000, err, sizeof(err)), 0);
	assert_true(rep.ok);
	ctl_reply_free(&rep);
	close(fd);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);

	/* A daemon that never answers: the wait ends. */
	pid = serve(path, NULL, true);
	fd = ctl_connect(path, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(ctl_send(fd, "STATUS\n", 7, 1000, err, sizeof(err)),
	                 0);
	assert_int_equal(ctl_recv_reply(fd, &rep, 200, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "did not answer"));
	close(fd);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);

	/* Closing without a word is an error, not a hang. */
	pid = serve(path, "", true);
	fd = ctl_connect(path, err, sizeof(err));
	assert_true(fd >= 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(ctl_recv_reply(fd, &rep, 2000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "closed"));
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_words_round_trip),
	    cmocka_unit_test(test_every_byte_round_trips),
	    cmocka_unit_test(test_quoting_is_log_kv),
	    cmocka_unit_test(test_split_spacing_and_cr),
	    cmocka_unit_test(test_split_refuses_bad_words),
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_line_limit),
	    cmocka_unit_test(test_building_past_the_limit),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_bad_replies),
	    cmocka_unit_test(test_err_lines),
	    cmocka_unit_test(test_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
