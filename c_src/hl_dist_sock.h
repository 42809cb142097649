/*
 * hl_dist_sock.h: the socket callbacks handed to ei (its "user supplied
 * socket interface").
 *
 * They are plain TCP, with one twist: while a handshake is in progress, the
 * challenge packet ei writes gets DFLAG_DIST_MONITOR_NAME added to its flags.
 * ei advertises DFLAG_DIST_MONITOR but not that flag, and erts only forwards
 * monitor signals (MONITOR_P_EXIT) to peers that advertise both; the C node
 * needs them to see owners die without the owners' help.
 */
#ifndef HL_DIST_SOCK_H
#define HL_DIST_SOCK_H

#include <ei.h>

/* The callback table; ei keeps a pointer to it. */
ei_socket_callbacks *hl_dist_sock_callbacks(void);

#endif
