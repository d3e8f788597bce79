/*
 * main.c - tollgate-prompt: options, the configuration (for the control
 * socket's path), signals, and the GLib main loop that the agent and its
 * front end run on; see tollgate-prompt(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "prompt/agent.h"
#include "prompt/ui.h"

#define PROMPT_PROG    "tollgate-prompt"
#define PROMPT_VERSION "0.1.0"

/* Exit status (tollgate-prompt(1)). */
enum {
	PROMPT_EXIT_OK = 0,
	PROMPT_EXIT_FAIL = 1,
	PROMPT_EXIT_USAGE = 2,
};

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: " PROMPT_PROG " [-c FILE] [--tty]\n"
	    "       " PROMPT_PROG " -h | --help | --version\n"
	    "\n"
	    "Asks whether an app may make a connection that no rule of "
	    "tollgated decides:\n"
	    "as desktop notifications, or with --tty in this terminal.\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE  where control_socket is set\n"
	    "                     (default %s)\n"
	    "      --tty          ask in this terminal instead of "
	    "notifications\n"
	    "  -h, --help         this help\n"
	    "      --version      print the version\n"
	    "\n"
	    "Answers (each when the prompt offers it):\n"
	    "  o  allow once                  d  deny once (the usual "
	    "default)\n"
	    "  a  allow always (the name)     n  deny always (the name)\n"
	    "  w  allow always (*.DOMAIN)     x  deny always (this app, "
	    "anywhere)\n"
	    "Or put one together (--tty), shown as \"Your answer: ...\":\n"
	    "  v      allow / deny\n"
	    "  s      scope: the name, *.DOMAIN, the IP, the port only, "
	    "the app anywhere\n"
	    "  t      how long: once, 30 minutes, 1 hour, until restart, "
	    "always\n"
	    "  u      back to the default\n"
	    "  Enter  send it; alone, the default: default_action, once, "
	    "no rule\n"
	    "Other keys: j/k/Tab/Up/Down other prompt, Ctrl-L redraw, q "
	    "quit.\n"
	    "Desktop: the six as actions, \"More choices...\" for the rest, "
	    "a click on\n"
	    "the notification for the default.\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.  "
	    "See tollgate-prompt(1).\n",
	    CONFIG_DEFAULT_PATH);
}

/*
 * Signals, handled on the main loop: the handler only writes the
 * signal's number down a pipe (GLib's g_unix_signal_add() knows none of
 * SIGQUIT, SIGTSTP and SIGCONT).
 *   SIGINT, SIGTERM, SIGHUP, SIGQUIT  leave the loop, so that the terminal
 *                                     is restored and the notifications
 *                                     closed on the way out
 *   SIGTSTP  the front end's suspend(), then stop (SIGSTOP)
 *   SIGCONT  the front end's resume(): also after a SIGSTOP from outside
 * The pipe lives as long as the process, like the handlers.
 */
static const int main_signals[] = {SIGINT,  SIGTERM, SIGHUP,
                                   SIGQUIT, SIGTSTP, SIGCONT};
static int main_sigpipe[2] = {-1, -1};

static void
main_on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;

	if (write(main_sigpipe[1], &b, 1) == -1) {
		/* Full: 64 KiB of signals wait to be read; they will do. */
	}
	errno = saved;
}

static gboolean
main_on_sigpipe(int fd, GIOCondition cond, gpointer data)
{
	struct agent *a = data;
	unsigned char buf[64];
	ssize_t n, i;

	n = read(fd, buf, sizeof(buf));
	for (i = 0; i < n; i++) {
		switch (buf[i]) {
		case SIGTSTP:
			/* Continued already: nothing to stop for. */
			if (memchr(buf + i + 1, SIGCONT, (size_t)(n - i - 1)) !=
			    NULL)
				break;
			if (a->ui->suspend != NULL)
				a->ui->suspend(a);
			kill(getpid(), SIGSTOP);
			break;
		case SIGCONT:
			if (a->ui->resume != NULL)
				a->ui->resume(a);
			break;
		default:
			agent_quit(a, PROMPT_EXIT_OK);
			break;
		}
	}
	return G_SOURCE_CONTINUE;
}

/* 0, or -1 after saying why. */
static int
main_signals_init(struct agent *a)
{
	struct sigaction sa;
	size_t i;

	if (pipe2(main_sigpipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_error("pipe for signals: %s", strerror(errno));
		return -1;
	}
	g_unix_fd_add(main_sigpipe[0], G_IO_IN, main_on_sigpipe, a);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = main_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(main_signals) / sizeof(main_signals[0]); i++)
		if (sigaction(main_signals[i], &sa, NULL) == -1) {
			log_error("sigaction(%s): %s",
			          strsignal(main_signals[i]), strerror(errno));
			return -1;
		}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"tty", no_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	char err[CONFIG_ERRLEN];
	struct config cfg;
	struct agent a;
	GMainLoop *loop;
	bool tty = false;
	int ch, status = PROMPT_EXIT_FAIL;

	log_init(PROMPT_PROG, LOG_INFO);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'T':
			tty = true;
			break;
		case 'h':
			usage(stdout);
			return PROMPT_EXIT_OK;
		case 'V':
			printf(PROMPT_PROG " " PROMPT_VERSION "\n");
			return PROMPT_EXIT_OK;
		case ':':
			fprintf(stderr,
			        PROMPT_PROG ": option %s needs an argument "
			                    "(try " PROMPT_PROG " --help)\n",
			        argv[optind - 1]);
			return PROMPT_EXIT_USAGE;
		default:
			fprintf(stderr,
			        PROMPT_PROG
			        ": unknown option %s (try " PROMPT_PROG
			        " --help)\n",
			        argv[optind - 1]);
			return PROMPT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
		        PROMPT_PROG
		        ": unexpected argument \"%s\" (try " PROMPT_PROG
		        " --help)\n",
		        argv[optind]);
		return PROMPT_EXIT_USAGE;
	}

	/* The terminal front end needs to know whether text may be UTF-8. */
	setlocale(LC_CTYPE, "");
	config_defaults(&cfg);
	if (config_load(&cfg, config_path, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return PROMPT_EXIT_FAIL;
	}
	/* A closed control socket is an error of send(), not a signal. */
	signal(SIGPIPE, SIG_IGN);

	loop = g_main_loop_new(NULL, FALSE);
	if (agent_init(&a, cfg.control_socket, tty ? &tty_ui : &desktop_ui,
	               loop) == -1) {
		log_error("out of memory");
		goto out;
	}
	if (main_signals_init(&a) == -1 || agent_start(&a) == -1)
		goto out;
	g_main_loop_run(loop);
	agent_stop(&a);
	status = a.status;
out:
	agent_free(&a);
	g_main_loop_unref(loop);
	return status;
}
