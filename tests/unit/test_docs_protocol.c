/* test_docs_protocol.c - docs/protocol-coverage.md lists exactly the
 * dispatch table (the APIs and versions ApiVersions advertises). */
#include "test.h"
#include "docs_check.h"

#include "broker/dispatch.h"

TEST(protocol_coverage_doc_current)
{
    docs_check_section("docs/protocol-coverage.md",
                       "<!-- BEGIN GENERATED API TABLE (dispatch_print_markdown) -->\n",
                       "<!-- END GENERATED API TABLE -->\n", dispatch_print_markdown,
                       "protocol_coverage");
}
