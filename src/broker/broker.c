/* broker.c - the process-wide broker context (see broker.h). */
#include "broker/broker.h"

broker *g_broker;
