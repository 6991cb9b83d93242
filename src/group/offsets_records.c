/* offsets_records.c - schema tables for offsets_records.h. */
#include "group/offsets_records.h"

KSTRUCT_DEF(orec_offset_key, OFFSET_COMMIT_KEY)
KSTRUCT_DEF(orec_group_key, GROUP_METADATA_KEY)
KSTRUCT_DEF(orec_offset_value, OFFSET_COMMIT_VALUE)
KSTRUCT_DEF(orec_group_member, GROUP_METADATA_MEMBER)
KSTRUCT_DEF(orec_group_value, GROUP_METADATA_VALUE)
