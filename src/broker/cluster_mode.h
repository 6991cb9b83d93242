/*
 * cluster_mode.h - start, leave and recover this broker's membership of a
 * ZooKeeper cluster (cluster_mode.c).  Only called when b->cluster_mode.
 */
#ifndef SAMSA_BROKER_CLUSTER_MODE_H
#define SAMSA_BROKER_CLUSTER_MODE_H

#include <stddef.h>

#include "broker/broker.h"

/* After the listeners serve: this broker's controller candidate and its
 * channel to the brokers.  -1 with a message. */
int cluster_mode_start(broker *b, char *err, size_t errlen);
/* SIGTERM, before cluster_mode_leave: Kafka's controlled shutdown
 * (controlled_shutdown.c), when controlled.shutdown.enable; bounded. */
void cluster_controlled_shutdown(broker *b);
/* Clean shutdown, first step: stop leading, resign as controller, remove
 * the registration so leaders move at once. */
void cluster_mode_leave(broker *b);
/* After the admin thread stopped: whatever cluster_mode_leave did not. */
void cluster_mode_stop(broker *b);
/* The ZooKeeper session expired (store event thread): reconnect on the
 * admin thread. */
void cluster_session_lost(broker *b);

/* Is this broker's controller the active one (and the broker not
 * leaving)?  The gate of the requests Kafka routes to the controller
 * (AlterPartition, ControlledShutdown, ElectLeaders): NOT_CONTROLLER
 * otherwise.  Any thread; b->controller is replaced on the admin thread. */
bool cluster_controller_active(const broker *b);

/* The fencing of every controller request (LeaderAndIsr, UpdateMetadata,
 * StopReplica), admin thread: STALE_CONTROLLER_EPOCH when the controller
 * epoch is older than the newest accepted (C2); STALE_BROKER_EPOCH when
 * the request was meant for an earlier registration of this broker (C3;
 * -1 = not stamped, as before Kafka 2.2).  KERR_NONE: accepted, and the
 * sender is recorded as the active controller. */
int16_t cluster_accept_controller(broker *b, int32_t controller_id, int32_t controller_epoch,
                                  int64_t broker_epoch);

#endif
