/*
 * ctl_client.c - the blocking client of the control socket: connect, send
 * a request, read its reply; see ctl_client.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/ctl_client.h"

int
ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen,
		         "control socket path %s is longer than %zu bytes",
		         path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		return -1;
	}
	/* A unix connect waits for room in the backlog this long at most. */
	tv.tv_sec = CTL_TIMEOUT_MS / 1000;
	tv.tv_usec = (CTL_TIMEOUT_MS % 1000) * 1000L;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		snprintf(err, errlen, "setsockopt(SO_SNDTIMEO): %s",
		         strerror(errno));
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	saved = errno;
	close(fd);
	switch (saved) {
	case ENOENT:
		snprintf(err, errlen,
		         "tollgated is not running (no socket at %s)", path);
		return CTL_DOWN;
	case ECONNREFUSED:
		snprintf(err, errlen,
		         "tollgated is not running (nothing listens on %s)",
		         path);
		return CTL_DOWN;
	case EAGAIN:
		snprintf(err, errlen,
		         "tollgated is busy: %s accepted no connection within "
		         "%d s",
		         path, CTL_TIMEOUT_MS / 1000);
		break;
	default:
		snprintf(err, errlen, "cannot connect to %s: %s", path,
		         strerror(saved));
		break;
	}
	errno = saved;
	return -1;
}

/* Wait for events on fd until deadline.  1 ready, 0 timed out, -1 error. */
static int
ctl_wait(int fd, short events, int64_t deadline, char *err, size_t errlen)
{
	struct pollfd pfd;
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - mono_ms();
		if (left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1) {
			snprintf(err, errlen, "poll on the control socket: %s",
			         strerror(errno));
			return -1;
		}
		if (rc == 0)
			snprintf(err, errlen,
			         "tollgated did not answer in time "
			         "(control socket timeout)");
		return rc;
	}
}

int
ctl_send(int fd, const char *buf, size_t len, int timeout_ms, char *err,
         size_t errlen)
{
	int64_t deadline = mono_ms() + timeout_ms;
	ssize_t n;
	int rc;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = ctl_wait(fd, POLLOUT, deadline, err, errlen);
			if (rc == 1)
				continue;
			if (rc == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			snprintf(err, errlen,
			         "tollgated closed the control connection");
			return -1;
		}
		snprintf(err, errlen, "sending to tollgated: %s",
		         n == -1 ? strerror(errno) : "nothing sent");
		return -1;
	}
	return 0;
}

int
ctl_recv_line(int fd, char **line, size_t *len, int timeout_ms, char *err,
              size_t errlen)
{
	int64_t deadline = mono_ms() + timeout_ms;
	size_t have = 0, cap = CTL_LINE_MAX + 2, want;
	char *buf, *nl;
	ssize_t n;

	*line = NULL;
	*len = 0;
	buf = malloc(cap);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		/* Look without taking, so nothing after the line is read. */
		n = recv(fd, buf + have, cap - have, MSG_PEEK | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (ctl_wait(fd, POLLIN, deadline, err, errlen) != 1)
				goto out;
			continue;
		}
		if (n == -1 && errno == ECONNRESET) {
			snprintf(err, errlen,
			         "tollgated closed the control connection "
			         "without a reply (reset)");
			goto out;
		}
		if (n == -1) {
			snprintf(err, errlen, "reading from tollgated: %s",
			         strerror(errno));
			goto out;
		}
		if (n == 0) {
			snprintf(err, errlen,
			         "tollgated closed the control connection "
			         "without a reply");
			goto out;
		}
		nl = memchr(buf + have, '\n', (size_t)n);
		want = nl != NULL ? (size_t)(nl - (buf + have)) + 1 : (size_t)n;
		n = recv(fd, buf + have, want, MSG_DONTWAIT);
		if (n != (ssize_t)want) {
			snprintf(err, errlen, "reading from tollgated: %s",
			         n == -1 ? strerror(errno) : "short read");
			goto out;
		}
		have += want;
		if (nl != NULL)
			break;
		if (have >= cap) {
			snprintf(err, errlen,
			         "reply longer than %d bytes from tollgated",
			         CTL_LINE_MAX);
			goto out;
		}
	}
	buf[have - 1] = '\0';
	*line = buf;
	*len = have - 1;
	return 0;
out:
	free(buf);
	return -1;
}

int
ctl_recv_reply(int fd, struct ctl_reply *rep, int timeout_ms, char *err,
               size_t errlen)
{
	char *line;
	size_t len;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (ctl_recv_line(fd, &line, &len, timeout_ms, err, errlen) == -1)
		return -1;
	rc = ctl_reply_parse(line, len, rep, err, errlen);
	free(line);
	return rc;
}

/* request as one line with its "\n" into buf (CTL_LINE_MAX + 2 bytes).
 * The length, or -1 + err. */
static int
ctl_request_line(const char *request, char *buf, char *err, size_t errlen)
{
	struct ctl_line l;
	int len;

	ctl_line_init(&l, buf, CTL_LINE_MAX + 2);
	ctl_put_raw(&l, request);
	len = ctl_line_end(&l);
	if (len == -1)
		snprintf(err, errlen,
		         "request too long or not one line (%zu bytes)",
		         strlen(request));
	return len;
}

int
ctl_call_rows(int fd, const char *request, struct ctl_reply *rep,
              int (*row)(const char *line, size_t len, void *arg), void *arg,
              char *err, size_t errlen)
{
	const char *count;
	unsigned long n, i;
	char *buf, *line, *end;
	size_t len;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	buf = malloc(CTL_LINE_MAX + 2);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	len = 0;
	if (ctl_request_line(request, buf, err, errlen) == -1)
		goto out;
	if ((ctl_send(fd, buf, strlen(buf), CTL_TIMEOUT_MS, err, errlen) ==
	         -1 &&
	     errno != EPIPE && errno != ECONNRESET) ||
	    ctl_recv_reply(fd, rep, CTL_TIMEOUT_MS, err, errlen) == -1)
		goto out;
	if (!rep->ok) {
		rc = 0;
		goto out;
	}
	count = ctl_reply_get(rep, "count");
	n = count != NULL ? strtoul(count, &end, 10) : 0;
	if (count == NULL || *end != '\0' || n > CTL_ROWS_MAX) {
		snprintf(err, errlen, "reply without a count of rows");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (ctl_recv_line(fd, &line, &len, CTL_TIMEOUT_MS, err,
		                  errlen) == -1)
			goto fail;
		rc = row(line, len, arg);
		free(line);
		if (rc == -1)
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	rc = -1;
	ctl_reply_free(rep);
out:
	free(buf);
	return rc;
}

int
ctl_call(const char *path, const char *request, struct ctl_reply *rep,
         char *err, size_t errlen)
{
	char *buf;
	int fd, len, rc = -1;

	memset(rep, 0, sizeof(*rep));
	buf = malloc(CTL_LINE_MAX + 2);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	len = ctl_request_line(request, buf, err, errlen);
	if (len == -1) {
		free(buf);
		return -1;
	}
	fd = ctl_connect(path, err, errlen);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	/* When the daemon closed early, its ERR may still be there. */
	if (ctl_send(fd, buf, (size_t)len, CTL_TIMEOUT_MS, err, errlen) == 0 ||
	    errno == EPIPE || errno == ECONNRESET)
		rc = ctl_recv_reply(fd, rep, CTL_TIMEOUT_MS, err, errlen);
	close(fd);
	free(buf);
	return rc;
}
