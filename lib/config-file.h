/* Config files for tether's daemons: each line "name = value" (or a bare
 * "name" for a flag) is the long option --name=value, so a config file can
 * say anything the command line can.  Options on the command line come
 * after the file's and so override them.  Pure: no logging, no globals. */
#ifndef LIB_CONFIG_FILE_H
#define LIB_CONFIG_FILE_H 1

/* Reads 'path' and builds a new argument vector: argv[0], then the file's
 * options, then argv[1..argc-1].  On success stores it in '*argcp' and
 * '*argvp' (free with config_file_free_argv()) and returns 0.  On failure
 * returns an errno value and stores a one-line message in '*errp' (caller
 * frees): a missing file, or "path:line: ..." for a malformed line. */
int config_file_merge(const char *path, int argc, char *argv[],
                      int *argcp, char ***argvp, char **errp);

void config_file_free_argv(int argc, char **argv);

/* Finds "--config=FILE" or "--config FILE" in 'argv'; returns FILE or
 * NULL. */
const char *config_file_find_arg(int argc, char *argv[]);

#endif /* lib/config-file.h */
