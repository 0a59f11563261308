/* canned.c - the reference floor of scripts/bench.sh: the least an SMTP
 * sink can do on this kernel. Plain epoll, non-blocking accept, a few bytes
 * of state per connection: send the 220 banner, answer each line end with a
 * canned reply chosen by the first 4 letters (EHLO multi-line 250, MAIL/RCPT
 * 250, DATA 354 then scan for CRLF.CRLF and answer 250, QUIT 221 and close).
 * It deliberately does NOT parse arguments, check command order, limit line
 * length, keep or spool anything, log, time out idle clients, do TLS, or
 * handle a short write (replies are tiny; a full socket buffer drops them).
 * Not part of the CMake product; bench.sh builds it with cc -O2.
 * usage: canned PORT [--threads N]   (N > 1: N processes, SO_REUSEPORT) */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 70000
struct conn {
	unsigned char data; /* 0: commands; else 1 + bytes of CRLF.CRLF seen */
	unsigned char len;  /* bytes of the current command line kept (<= 4) */
	char cmd[4];
};
static struct conn *conns;

static void
reply(int fd, const char *s)
{
	(void)!write(fd, s, strlen(s));
}

static int
on_bytes(int fd, struct conn *c, const char *p, ssize_t n)
{
	static const char eod[] = "\r\n.\r\n";
	for (ssize_t i = 0; i < n; i++) {
		char ch = p[i];
		if (c->data) { /* data - 1 = bytes of eod matched so far */
			int m = c->data - 1;
			m = ch == eod[m] ? m + 1 : ch == '\r' ? 1 : 0;
			c->data = m + 1;
			if (m == 5) {
				c->data = 0;
				reply(fd, "250 2.0.0 Ok: queued\r\n");
			}
			continue;
		}
		if (ch != '\n') {
			if (c->len < 4)
				c->cmd[c->len++] = ch & ~0x20;
			continue;
		}
		const char *k = c->cmd;
		int four = c->len == 4;
		c->len = 0;
		if (four && (!memcmp(k, "EHLO", 4) || !memcmp(k, "HELO", 4)))
			reply(fd,
			      "250-canned\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
			      "250 SIZE 0\r\n");
		else if (four && !memcmp(k, "DATA", 4)) {
			c->data =
			    2; /* the DATA line's CRLF counts as the first */
			reply(fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
		} else if (four && !memcmp(k, "QUIT", 4)) {
			reply(fd, "221 2.0.0 Bye\r\n");
			return -1;
		} else
			reply(fd, "250 2.0.0 Ok\r\n");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 2525, threads = 1;
	if (argc > 3 && !strcmp(argv[2], "--threads"))
		threads = atoi(argv[3]);
	signal(SIGPIPE, SIG_IGN);
	conns = calloc(MAXFD, sizeof *conns);
	for (int t = 1; t < threads; t++)
		if (fork() == 0)
			break;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(ls, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(port),
	                        .sin_addr.s_addr = htonl(0x7f000001)};
	if (bind(ls, (void *)&a, sizeof a) || listen(ls, 4096)) {
		perror("canned: bind/listen");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[256];
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	char buf[65536];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, c;
			if (fd == ls) {
				while ((c = accept4(ls, NULL, NULL,
				                    SOCK_NONBLOCK)) >= 0) {
					if (c >= MAXFD) {
						close(c);
						continue;
					}
					memset(&conns[c], 0, sizeof conns[c]);
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
					reply(c, "220 canned ESMTP\r\n");
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof buf);
			if (r == 0 || (r < 0 && errno != EAGAIN) ||
			    (r > 0 && on_bytes(fd, &conns[fd], buf, r)))
				close(fd); /* close removes it from the epoll
				              set */
		}
	}
}
