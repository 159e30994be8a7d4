/*
 * commands.h - the subcommands of the lienthong binary.
 *
 * Each takes the arguments after its own name (argv[0] is the command name)
 * and returns the process exit status: 0 success, 1 the work failed (or some
 * input lines failed), 2 a usage error.
 */
#ifndef LT_COMMANDS_H
#define LT_COMMANDS_H

/* Exit statuses shared by every command. */
#define EXIT_OK     0
#define EXIT_FAILED 1
#define EXIT_USAGE  2

int cmd_units(int argc, char **argv);
int cmd_address(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_enrol(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif
