/*
 * listener.h - a listening TCP socket served by one loop.
 *
 * Accepted sockets are made non-blocking and handed to on_accept, which
 * decides which network thread adopts them.  Accept errors such as EMFILE
 * are logged and the listener backs off briefly instead of spinning.
 */
#ifndef SAMSA_NET_LISTENER_H
#define SAMSA_NET_LISTENER_H

#include <stddef.h>

#include "net/loop.h"

typedef struct listener listener;

/* host NULL or "" = all interfaces.  On failure returns NULL and writes a
 * message naming the address into err. */
listener *listener_open(loop *lp, const char *host, int port,
                        void (*on_accept)(listener *ls, int fd, void *arg), void *arg,
                        char *err, size_t errlen);
int listener_port(const listener *ls);
/* Stop / restart accepting (max.connections); loop thread only.  A pause
 * from inside on_accept also ends the current accept batch. */
void listener_pause(listener *ls);
void listener_resume(listener *ls);
void listener_close(listener *ls);

#endif
