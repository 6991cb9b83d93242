/* txn_records.c - schema tables for txn_records.h. */
#include "txn/txn_records.h"

KSTRUCT_DEF(trec_key, TXN_LOG_KEY)
KSTRUCT_DEF(trec_partitions, TXN_LOG_PARTITIONS)
KSTRUCT_DEF(trec_value, TXN_LOG_VALUE)
