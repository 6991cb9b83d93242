/*
 * test_storage_int.h - test-only access to a plog's internals.
 *
 * plog_set_high_watermark only raises the HW (S2); tests of read and
 * ListOffsets bounds need a HW below the LEO on a log whose HW already
 * reached it, so they set the field directly here.
 */
#ifndef SAMSA_TEST_STORAGE_INT_H
#define SAMSA_TEST_STORAGE_INT_H

#include "storage/partition_log_int.h"

static inline void test_lower_hw(plog *l, int64_t hw)
{
    pthread_rwlock_wrlock(&l->lock);
    l->hw = hw;
    plog_update_hw_pos(l);
    pthread_rwlock_unlock(&l->lock);
}

#endif
