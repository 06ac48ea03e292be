/*
 * worker.h - a background thread that leaves signals to the audio loop.
 *
 * The daemon's signals (SIGTERM, SIGHUP, ...) must reach the playing
 * thread: they cut its pacing sleep short, so a stop is heard at once.
 * A worker blocks them all but the faults: a SIGSEGV raised while blocked
 * kills the process outright, with no sanitizer report and no handler
 * (POSIX leaves it undefined; Linux does that).
 */
#ifndef WORKER_H
#define WORKER_H

#include <pthread.h>

/* pthread_create() with that mask. 0, or the negative errno. */
int worker_start(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
