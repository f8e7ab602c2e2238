/* libvirt's client event loop on the agent's poll loop: the functions of
 * virEventRegisterImpl() keep libvirt's handles (file descriptors) and
 * timeouts, libvirt_loop_wait() turns them into poll_fd_wait() and
 * poll_timer_wait(), and libvirt_loop_run() runs the callbacks of those
 * that are ready.  No thread: libvirt's connections, their keepalives and
 * their events are served by the agent's main loop.  Process-wide, as
 * libvirt's own event loop is. */
#ifndef HOSTAGENT_LIBVIRT_LOOP_H
#define HOSTAGENT_LIBVIRT_LOOP_H 1

/* Gives libvirt this event loop; once, before any connection is opened
 * (later calls do nothing). */
void libvirt_loop_register(void);

/* Runs the callbacks of ready handles and due timeouts, then frees those
 * libvirt removed (never from inside libvirt's own call, as it asks). */
void libvirt_loop_run(void);

/* Registers the poll-loop waits of libvirt's handles and timeouts. */
void libvirt_loop_wait(void);

#endif /* hostagent/libvirt-loop.h */
