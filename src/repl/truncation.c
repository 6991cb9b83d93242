/* truncation.c - see truncation.h. */
#include "repl/truncation.h"

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

repl_truncation repl_truncation_decide(int32_t leader_epoch, int64_t leader_end,
                                       int32_t follower_epoch, int64_t follower_end,
                                       int64_t leo, int64_t hw)
{
    if (leader_end < 0)
        return (repl_truncation){ min64(hw, leo), true, -1 };
    if (leader_epoch < 0 || follower_end < 0)
        return (repl_truncation){ min64(leader_end, leo), true, -1 };
    if (follower_epoch != leader_epoch)
        return (repl_truncation){ min64(follower_end, leo), false, follower_epoch };
    /* C8: cut where the two logs stop agreeing, so no divergent tail stays. */
    return (repl_truncation){ min64(min64(leader_end, follower_end), leo), true, -1 };
}
