/* tunnel.c - `postern tunnel NAME`: a standalone WireGuard device in the
 * foreground, configured with the stock `wg` tool, as `wireguard-go -f NAME`
 * is: creates the TUN interface NAME, serves /var/run/wireguard/NAME.sock,
 * and exits cleanly (socket removed) on SIGINT/SIGTERM or when the
 * interface is deleted. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cmd.h"

#define LOG_SUBSYS "tunnel"
#include "core/log.h"
#include "core/loop.h"
#include "core/num.h"
#include "wg/tun_iface.h"

#define TUNNEL_DEFAULT_MTU 1420		/* wireguard-go's default */
#define TUNNEL_DEFAULT_THREADS 0

struct tunnel {
	struct loop *loop;
	struct tun_iface wg;
	struct loop_io sig_io;
	int sig_fd;
};

static void tunnel_usage(FILE *f)
{
	fprintf(f, "usage: postern tunnel [-f] [--mtu N] [--force-cookie] "
		   "[--crypto-threads N] [--log-level LEVEL] NAME\n"
		   "Runs a WireGuard interface NAME in the foreground; "
		   "configure it with wg(8).\n"
		   "  --force-cookie  answer every handshake with a cookie "
		   "first (as if under load)\n"
		   "  --crypto-threads N  0: all on one thread; 1: a second "
		   "thread seals and opens packets too\n");
}

static void tunnel_on_signal(struct loop_io *io, uint32_t events)
{
	struct tunnel *t = io->data;
	struct signalfd_siginfo si;

	(void)events;
	if (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		log_info("signal %u: shutting down", si.ssi_signo);
	loop_stop(t->loop);
}

static void tunnel_on_gone(void *ctx)
{
	loop_stop(((struct tunnel *)ctx)->loop);
}

static void tunnel_on_event(void *ctx, const struct wg_event *ev)
{
	static const char *what[WG_EVENT_TYPE_MAX] = {
		[WG_EVENT_HANDSHAKE] = "handshake completed",
		[WG_EVENT_ENDPOINT] = "endpoint changed",
		[WG_EVENT_EXPIRED] = "session keys zeroed",
		[WG_EVENT_GAVE_UP] = "handshake gave up",
	};
	(void)ctx;
	log_info("peer event: %s", what[ev->type]);
}

/* SIGINT/SIGTERM become readable events on the loop. */
static int tunnel_signals(struct tunnel *t)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	t->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (t->sig_fd < 0)
		return -errno;
	return loop_io_add(t->loop, &t->sig_io, t->sig_fd, LOOP_READ,
			   tunnel_on_signal, t);
}

static int tunnel_start(struct tunnel *t, const char *name, unsigned mtu,
			bool force_cookie, unsigned crypto_threads)
{
	struct wg_device_config cfg = {
		.force_cookie = force_cookie,
		.event = tunnel_on_event,
		.crypto_threads = crypto_threads,
	};
	int r;

	if (!(t->loop = loop_new()))
		return -errno;
	if ((r = tunnel_signals(t)) < 0)
		return r;
	if ((r = tun_iface_open(&t->wg, t->loop, name, mtu, &cfg, tunnel_on_gone,
				t)) < 0 ||
	    (r = wg_device_set_listen_port(t->wg.dev, 0)) < 0)
		return r;
	if ((r = uapi_server_start(t->loop, name, &wg_device_uapi_ops, t->wg.dev,
				   &t->wg.uapi)) < 0) {
		log_err("cannot serve /var/run/wireguard/%s.sock: %s", name,
			strerror(-r));
		return r;
	}
	log_info("interface %s up (mtu %u%s)", name, tun_mtu(t->wg.tun),
		 force_cookie ? ", cookies forced" : "");
	return 0;
}

static void tunnel_stop(struct tunnel *t)
{
	tun_iface_close(&t->wg);
	if (t->loop) {
		loop_io_del(t->loop, &t->sig_io);
		loop_free(t->loop);
	}
	if (t->sig_fd >= 0)
		close(t->sig_fd);
}

int cli_cmd_tunnel(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "force-cookie", no_argument, NULL, 'c' },
		{ "crypto-threads", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tunnel t = { .sig_fd = -1 };
	bool force_cookie = false;
	uint64_t mtu = TUNNEL_DEFAULT_MTU, threads = TUNNEL_DEFAULT_THREADS;
	enum log_level lvl;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			break; /* always in the foreground */
		case 'm':
			if (num_parse_cstr(optarg, 576, PKT_MTU_MAX, &mtu) < 0) {
				fprintf(stderr, "postern tunnel: bad --mtu\n");
				return CMD_EXIT_USAGE;
			}
			break;
		case 'c':
			force_cookie = true;
			break;
		case 't':
			if (num_parse_cstr(optarg, 0, 1, &threads) < 0) {
				fprintf(stderr, "postern tunnel: bad --crypto-threads\n");
				return CMD_EXIT_USAGE;
			}
			break;
		case 'l':
			if (log_level_parse(optarg, &lvl) < 0) {
				fprintf(stderr, "postern tunnel: bad --log-level\n");
				return CMD_EXIT_USAGE;
			}
			log_set_level(lvl);
			break;
		case 'h':
			tunnel_usage(stdout);
			return CMD_EXIT_OK;
		default:
			tunnel_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || strlen(argv[optind]) == 0 ||
	    strlen(argv[optind]) > 15) {
		tunnel_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	r = tunnel_start(&t, argv[optind], (unsigned)mtu, force_cookie,
			 (unsigned)threads);
	if (r == 0)
		r = loop_run(t.loop);
	tunnel_stop(&t);
	return r < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}
