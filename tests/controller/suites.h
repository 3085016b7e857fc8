/* suites.h — the controller's check suites, collected by check_main.c. */
#ifndef PT_TEST_SUITES_H
#define PT_TEST_SUITES_H

#include <check.h>
#include <stdio.h>

Suite *commands_suite(void);
Suite *args_suite(void);
Suite *options_suite(void);
Suite *format_suite(void);
Suite *misc_suite(void);
Suite *session_suite(void);
Suite *launch_suite(void);
Suite *script_suite(void);
Suite *fiberview_suite(void);
Suite *dbg_suite(void);
Suite *inject_suite(void);
Suite *dap_io_suite(void);
Suite *top_suite(void);

/* Runs fn(stream) into memory and returns the text (caller frees). */
char *capture(void (*fn)(FILE *out, void *data), void *data);

#endif
