/*
 * runstat.c - run a command, bounded in time; report its CPU and memory.
 *
 * Usage: bench-runstat -l LIMIT_S [-s INT|TERM] [-g GRACE_S] [-i SECS]
 *                      [-p PIDFILE] -o OUT -- CMD [ARG...]
 *
 * CMD runs in a session (and process group) of its own. If it has not
 * ended after LIMIT_S seconds, or when this program gets SIGINT, SIGTERM
 * or SIGHUP, it gets SIGINT or SIGTERM (-s), as Ctrl-C or a service
 * manager would stop it; GRACE_S (default 15) seconds later, or GRACE_S
 * after CMD ended while processes it started run on, everything left
 * gets SIGKILL (and the run counts as failed).
 *
 * This process is a child subreaper, so every descendant that outlives
 * its parent is reparented here and reaped: CPU is getrusage(
 * RUSAGE_CHILDREN) once all are gone, user + sys of CMD and of every
 * process it started (ezstream's decoder and encoder pipelines, say).
 * maxrss_kb is the kernel's ru_maxrss: the largest peak RSS of any one
 * of them. tree_rss_kb is the largest sum of the RSS of all of them at
 * once, sampled every -i SECS (default 0.5; each sample reads /proc,
 * which costs this process, not CMD, some CPU). -p writes CMD's process
 * id to PIDFILE. It is a small C program on purpose: Linux
 * carries a process's peak RSS across fork and exec, so a child forked
 * from a large parent (Python, say) would report the parent's size.
 *
 * OUT gets key=value lines: user_s sys_s cpu_s wall_s (CMD's start to
 * its end) maxrss_kb tree_rss_kb rc (exit status, or -SIGNAL) signalled.
 * Exit 0 if CMD ended by itself with status 0, or was stopped by the
 * signal as planned; 1 otherwise; 2 on a usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 32768

static pid_t pids[MAX_PROCS], ppids[MAX_PROCS];
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads every process's parent; returns how many. */
static size_t scan_procs(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_PROCS) {
		char path[64], buf[512], *p;
		FILE *f;
		long pid = strtol(e->d_name, &p, 10);
		int ppid;

		if (*p || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* ") S PPID ..." */
		if (p && sscanf(p, ") %*c %d", &ppid) == 1) {
			pids[n] = (pid_t)pid;
			ppids[n] = ppid;
			n++;
		}
	}
	closedir(d);
	return n;
}

static bool descends_from(pid_t pid, pid_t root, size_t n)
{
	for (int hops = 0; hops < 64 && pid > 1; hops++) {
		size_t i;

		if (pid == root)
			return true;
		for (i = 0; i < n && pids[i] != pid; i++)
			;
		if (i == n)
			return false;
		pid = ppids[i];
	}
	return false;
}

/* Sums the RSS of root's descendants (root not counted), in KB; with
 * sig, sends it to each of them instead. Returns how many there are. */
static size_t tree(pid_t root, long *rss_kb, int sig)
{
	size_t n = scan_procs(), count = 0;

	*rss_kb = 0;
	for (size_t i = 0; i < n; i++) {
		char path[64], line[128];
		FILE *f;

		if (pids[i] == root || !descends_from(pids[i], root, n))
			continue;
		count++;
		if (sig) {
			kill(pids[i], sig);
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pids[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			long kb;

			if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) {
				*rss_kb += kb;
				break;
			}
		}
		fclose(f);
	}
	return count;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-runstat -l LIMIT_S [-s INT|TERM] "
	                "[-g GRACE_S] [-i SECS] [-p PIDFILE] -o OUT "
	                "-- CMD [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double limit = -1, grace = 15, t0, deadline, ended = -1, killed_at = -1;
	double every = 0.5, sampled = -1;
	const char *pidfile = NULL;
	int sig = SIGINT, opt, rc = 0, status;
	bool have_rc = false, signalled = false, killed = false;
	const char *out = NULL;
	long peak = 0, rss;
	struct rusage ru;
	pid_t child, me = getpid();
	FILE *f;

	while ((opt = getopt(argc, argv, "+l:s:g:i:p:o:")) != -1) {
		switch (opt) {
		case 'l':
			limit = atof(optarg);
			break;
		case 's':
			if (strcmp(optarg, "INT") == 0)
				sig = SIGINT;
			else if (strcmp(optarg, "TERM") == 0)
				sig = SIGTERM;
			else
				usage();
			break;
		case 'g':
			grace = atof(optarg);
			break;
		case 'i':
			every = atof(optarg);
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			usage();
		}
	}
	if (limit <= 0 || every <= 0 || !out || optind >= argc)
		usage();
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGHUP, on_stop);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		perror("bench-runstat: not a subreaper (orphans' CPU is lost)");

	t0 = now_s();
	deadline = t0 + limit;
	child = fork();
	if (child < 0) {
		perror("bench-runstat: fork");
		return 1;
	}
	if (child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		setsid();
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "bench-runstat: %s: %s\n", argv[optind],
		        strerror(errno));
		_exit(127);
	}
	if (pidfile) {
		f = fopen(pidfile, "w");
		if (f) {
			fprintf(f, "%d\n", (int)child);
			fclose(f);
		}
	}
	for (;;) {
		pid_t pid;
		double t;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != child)
				continue;
			have_rc = true;
			rc = WIFEXITED(status) ? WEXITSTATUS(status)
			                       : -WTERMSIG(status);
			ended = now_s();
		}
		if (pid < 0 && errno == ECHILD)
			break;
		t = now_s();
		if (stop_requested && !signalled && t < deadline) {
			stop_requested = 0;
			deadline = t;
		}
		if (t >= sampled + every) {
			sampled = t;
			tree(me, &rss, 0);
			if (rss > peak)
				peak = rss;
		}
		if (!signalled && !have_rc && t >= deadline) {
			signalled = true;
			kill(-child, sig);
		}
		if (!killed && ((signalled && t >= deadline + grace) ||
		                (have_rc && t >= ended + grace))) {
			killed = true;
			killed_at = t;
			fprintf(stderr,
			        "bench-runstat: %s: still running %g s after "
			        "%s: killed\n",
			        argv[optind], grace,
			        signalled ? "the signal" : "its end");
			kill(-child, SIGKILL);
			tree(me, &rss, SIGKILL);
		}
		if (killed && t >= killed_at + 10) {
			fprintf(stderr, "bench-runstat: processes outlive "
			                "SIGKILL; giving up\n");
			break;
		}
		usleep(100000);
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f,
	        "user_s=%.3f\nsys_s=%.3f\ncpu_s=%.3f\nwall_s=%.3f\n"
	        "maxrss_kb=%ld\ntree_rss_kb=%ld\nrc=%d\nsignalled=%s\n",
	        (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	        (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	        (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	            (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	        (have_rc ? ended : now_s()) - t0, ru.ru_maxrss, peak, rc,
	        signalled ? "yes" : "no");
	if (fclose(f) != 0)
		return 1;
	if (killed || !have_rc)
		return 1;
	return (rc == 0 || (signalled && rc == -sig)) ? 0 : 1;
}
