/* A private Open vSwitch for one test: ovsdb-server and ovs-vswitchd (dummy
 * datapath, no root needed) started in a fresh temporary directory, with
 * helpers to run ovs-vsctl/ovs-ofctl/ovs-appctl against that instance only.
 *
 * Contract:
 *
 *   - sandbox_create() makes $TMPDIR/tether-sb-<name>-XXXXXX (TMPDIR defaults
 *     to /tmp), creates conf.db there from the installed vswitch.ovsschema
 *     (override with $OVS_SCHEMA), and starts ovsdb-server and ovs-vswitchd
 *     ($OVSDB_SERVER / $OVS_VSWITCHD, else /usr/sbin/...) with OVS_RUNDIR,
 *     OVS_DBDIR, OVS_LOGDIR and OVS_SYSCONFDIR all set to that directory.  It
 *     returns only once ovs-vswitchd has applied the database (an
 *     "ovs-vsctl init" that waits for it has returned), or NULL after
 *     printing why on stderr.
 *
 *   - The daemons are children of the calling process (not --detach'ed) and
 *     get SIGTERM if the thread that created them dies, so a crashed test
 *     leaves nothing behind.  They are stopped only by the pids this harness
 *     started; nothing outside the directory is touched (in particular not
 *     /var/run/openvswitch).  Their stdout/stderr go to <dir>/<daemon>.out,
 *     their logs to <dir>/<daemon>.log.
 *
 *   - sandbox_run() runs a /bin/sh command line in that environment.  Plain
 *     "ovs-vsctl ..." and "ovs-ofctl ... br-int" reach this instance through
 *     OVS_RUNDIR.  ovs-appctl needs the control socket's path: the shell sees
 *     $SB_VSWITCHD_CTL and $SB_OVSDB_CTL (and $SB_DIR, $SB_DB), so write
 *     "ovs-appctl -t $SB_VSWITCHD_CTL ..." (SANDBOX_APPCTL below is that
 *     prefix).
 *
 *   - sandbox_destroy() stops both daemons (SIGTERM, then SIGKILL after 5 s)
 *     and removes the directory, unless the environment has
 *     TETHER_KEEP_SANDBOX=1, in which case the directory is kept and its
 *     path printed on stderr.
 *
 * Single-threaded; children are reaped with waitpid() on their own pids, so
 * the caller must not reap them itself (e.g. with SIGCHLD set to SIG_IGN). */
#ifndef TESTS_SANDBOX_SANDBOX_H
#define TESTS_SANDBOX_SANDBOX_H 1

/* Command prefixes for sandbox_run(). */
#define SANDBOX_APPCTL "ovs-appctl -t \"$SB_VSWITCHD_CTL\""
#define SANDBOX_OVSDB_APPCTL "ovs-appctl -t \"$SB_OVSDB_CTL\""
#define SANDBOX_VSCTL "ovs-vsctl --timeout=10"

struct sandbox;

struct sandbox *sandbox_create(const char *name);
/* Like sandbox_create(), but starts only ovsdb-server, on a conf.db created
 * from 'schema' (another database than Open vSwitch's). */
struct sandbox *sandbox_create_db(const char *name, const char *schema);
void sandbox_destroy(struct sandbox *);

/* The temporary directory, and the OVSDB remote of its ovsdb-server
 * ("unix:<dir>/db.sock"). */
const char *sandbox_dir(const struct sandbox *);
const char *sandbox_db_remote(const struct sandbox *);

/* Runs printf-formatted 'fmt' with /bin/sh -c in the sandbox's environment,
 * stdin from /dev/null, stderr inherited.  If 'outp' is nonnull, stores the
 * command's stdout in '*outp' (a NUL-terminated string the caller frees),
 * otherwise stdout is inherited.  Returns the exit status (0..255), 128+N
 * if the shell was killed by signal N, or -1 if it could not be run. */
int sandbox_run(struct sandbox *, char **outp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Stops ovsdb-server (SIGTERM, wait) / starts it again on the same conf.db
 * and socket, returning once it accepts connections.  Return 0 or a positive
 * errno value (with a message on stderr). */
int sandbox_stop_ovsdb(struct sandbox *);
int sandbox_start_ovsdb(struct sandbox *);

#endif /* tests/sandbox/sandbox.h */
