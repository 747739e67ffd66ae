/* userns.c - the private-namespace helper and fd passing (see userns.h). */
#include "netstack/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define USERNS_REPLY_TIMEOUT_MS 10000

/* Sends an int status and up to TUNCONF_FDS_MAX fds in one message. */
static int userns_send(int s, int status, const int *fds, unsigned n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * TUNCONF_FDS_MAX)];
	struct iovec iov = { &status, sizeof(status) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n) {
		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return sendmsg(s, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Receives what userns_send sent. Returns the status (< 0 = the
 * helper's -errno) with the fds, or -errno of the transfer itself. */
static int userns_recv(int s, int *fds, unsigned cap, unsigned *n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * TUNCONF_FDS_MAX)];
	int status;
	struct iovec iov = { &status, sizeof(status) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct pollfd p = { .fd = s, .events = POLLIN };

	*n = 0;
	if (poll(&p, 1, USERNS_REPLY_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	ssize_t got = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
	if (got != (ssize_t)sizeof(status))
		return got < 0 ? -errno : -EPROTO;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int tmp[TUNCONF_FDS_MAX];
		memcpy(tmp, CMSG_DATA(c), sizeof(int) * (k < TUNCONF_FDS_MAX ? k : TUNCONF_FDS_MAX));
		for (unsigned i = 0; i < k && i < TUNCONF_FDS_MAX; i++) {
			if (*n < cap)
				fds[(*n)++] = tmp[i];
			else
				close(tmp[i]);
		}
	}
	return status;
}

static int userns_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		rc = -errno;
	close(fd);
	return rc;
}

/* In the child: new user + network namespace, our ids mapped to root. */
static int userns_enter(uid_t uid, gid_t gid)
{
	char map[64];
	int rc;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -errno;
	rc = userns_write_file("/proc/self/setgroups", "deny");
	if (rc < 0 && rc != -ENOENT)
		return rc;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	rc = userns_write_file("/proc/self/uid_map", map);
	if (rc < 0)
		return rc;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	return userns_write_file("/proc/self/gid_map", map);
}

static void userns_serve(int ctl)
{
	int family;

	while (recv(ctl, &family, sizeof(family), 0) == (ssize_t)sizeof(family)) {
		int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		userns_send(ctl, fd < 0 ? -errno : 0, &fd, fd < 0 ? 0 : 1);
		if (fd >= 0)
			close(fd);
	}
}

static void userns_child(int ctl, const struct netstack_conf *c, uid_t uid,
			 gid_t gid)
{
	int fds[TUNCONF_FDS_MAX];
	unsigned n = 0;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	rc = userns_enter(uid, gid);
	if (rc == 0)
		rc = tunconf_setup(c, true, fds, &n);
	userns_send(ctl, rc, fds, rc == 0 ? n : 0);
	while (n)
		close(fds[--n]);
	if (rc == 0)
		userns_serve(ctl);
	_exit(rc == 0 ? 0 : 1);
}

int userns_spawn(struct userns *u, const struct netstack_conf *c, int *fds,
		 unsigned *nfds)
{
	int sp[2], rc;
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	u->pid = fork();
	if (u->pid < 0) {
		rc = -errno;
		close(sp[0]);
		close(sp[1]);
		return rc;
	}
	if (u->pid == 0) {
		close(sp[0]);
		userns_child(sp[1], c, uid, gid);
	}
	close(sp[1]);
	u->ctl = sp[0];
	rc = userns_recv(u->ctl, fds, TUNCONF_FDS_MAX, nfds);
	if (rc == 0 && *nfds == 0)
		rc = -EPROTO;
	if (rc < 0) {
		while (*nfds)
			close(fds[--*nfds]);
		userns_stop(u);
	}
	return rc;
}

int userns_socket(struct userns *u, int family)
{
	int fd = -1, rc;
	unsigned n;

	if (send(u->ctl, &family, sizeof(family), MSG_NOSIGNAL) < 0)
		return -errno;
	rc = userns_recv(u->ctl, &fd, 1, &n);
	if (rc < 0)
		return rc;
	return n == 1 ? fd : -EPROTO;
}

void userns_stop(struct userns *u)
{
	if (u->ctl >= 0)
		close(u->ctl);
	u->ctl = -1;
	if (u->pid > 0) {
		kill(u->pid, SIGKILL);
		waitpid(u->pid, NULL, 0);
	}
	u->pid = 0;
}
