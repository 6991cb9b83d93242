/*
 * docs_check.h - keep generated sections of docs/ in step with the tables
 * they come from.  A doc embeds the generated text between two marker
 * lines; the check fails when it is stale, and SAMSA_REGEN_DOCS=1 rewrites
 * the section instead.
 */
#ifndef SAMSA_TEST_DOCS_CHECK_H
#define SAMSA_TEST_DOCS_CHECK_H

#include <stdio.h>

/* gen(out) writes the expected section.  Skips (passes) when the doc is
 * not found (not run from the repository root). */
void docs_check_section(const char *path, const char *begin_mark, const char *end_mark,
                        void (*gen)(FILE *out), const char *test_name);

#endif
