# Samsa build. Plain make; every .c under src/ is compiled automatically.
#   make              build build/samsa-broker (and unit tests binary on demand)
#   make SANITIZE=1   same tree with ASan + UBSan (objects kept apart per mode)
#   make test         check the layer order (make check-layers), install missing
#                     deps, build, run unit tests, fuzz regression replay
#                     (make fuzz-regress) and integration tests
#   make check-layers fail on an #include that points up the layer order
#                     (docs/architecture.md, the LAYERS: line)
#   make run          install missing deps, build, start a broker on :9092, data in ./data

CC       ?= cc
SANITIZE ?= 0
MODE     := $(if $(filter 1,$(SANITIZE)),san,rel)
BUILD    ?= build
OBJDIR   := $(BUILD)/obj/$(MODE)

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g -pthread -Wall -Wextra -Werror \
               -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers \
               -Wformat=2 -Wvla -Isrc -MMD -MP
ifeq ($(MODE),san)
  CFLAGS_OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined
  LDFLAGS_SAN := -fsanitize=address,undefined
else
  CFLAGS_OPT := -O2 -fno-omit-frame-pointer
endif
CFLAGS  += $(CFLAGS_BASE) $(CFLAGS_OPT)
LDLIBS  := -lssl -lcrypto -lisal -lcjson -lzookeeper_mt -lz -lsnappy -llz4 -lzstd -lpthread -lm
LDFLAGS += $(LDFLAGS_SAN)

LIB_SRC    := $(shell find src -name '*.c' ! -path 'src/cli/*' ! -name 'main.c' | sort)
LIB_OBJ    := $(LIB_SRC:%.c=$(OBJDIR)/%.o)
BROKER_OBJ := $(OBJDIR)/src/broker/main.o
UNIT_SRC   := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ   := $(UNIT_SRC:%.c=$(OBJDIR)/%.o)
# The samsa CLI: src/cli/*.c on librdkafka (not part of libsamsa.a).
CLI_SRC    := $(sort $(wildcard src/cli/*.c))
CLI_OBJ    := $(CLI_SRC:%.c=$(OBJDIR)/%.o)
CLI_LIBS   := -lrdkafka -lcjson -lssl -lcrypto -lpthread -lm
# The CLI's own SASL logins (src/cli/conn.c) use the broker's pure SCRAM and
# PLAIN code in src/auth/ (scripts/check-layers.sh lets cli include auth/ only).
CLI_AUTH_OBJ := $(addprefix $(OBJDIR)/src/auth/,acl.o base64.o jaas.o plain.o scram.o scram_exchange.o)

.PHONY: all deps test sanitize-test unit-test unit-tests integration-test ecosystem-test compat-doc cli-test run clean bench docs \
        check-layers
all: $(BUILD)/samsa-broker $(BUILD)/samsa
unit-tests: $(BUILD)/unit-tests

# Binaries are relinked when the mode changes (the stamp records it).
$(BUILD)/.mode-$(MODE):
	@mkdir -p $(BUILD) && rm -f $(BUILD)/.mode-* && touch $@

$(OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(OBJDIR)/libsamsa.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/samsa-broker: $(BROKER_OBJ) $(OBJDIR)/libsamsa.a $(BUILD)/.mode-$(MODE)
	$(CC) $(LDFLAGS) $(BROKER_OBJ) $(OBJDIR)/libsamsa.a $(LDLIBS) -o $@

# The unit tests also cover the CLI's pure Metadata codec (no librdkafka in it).
UNIT_CLI_OBJ := $(OBJDIR)/src/cli/meta_wire.o $(OBJDIR)/src/cli/reassign_plan.o \
                $(OBJDIR)/src/cli/reassign_wire.o $(OBJDIR)/src/cli/txn_wire.o \
                $(OBJDIR)/src/cli/sasl_wire.o
$(BUILD)/unit-tests: $(UNIT_OBJ) $(UNIT_CLI_OBJ) $(OBJDIR)/libsamsa.a $(BUILD)/.mode-$(MODE)
	$(CC) $(LDFLAGS) $(UNIT_OBJ) $(UNIT_CLI_OBJ) $(OBJDIR)/libsamsa.a $(LDLIBS) -o $@

$(BUILD)/samsa: $(CLI_OBJ) $(CLI_AUTH_OBJ) $(BUILD)/.mode-$(MODE)
	$(CC) $(LDFLAGS) $(CLI_OBJ) $(CLI_AUTH_OBJ) $(CLI_LIBS) -o $@

deps:
	@scripts/deps.sh

# Layers only point down: src/Y/ may include "X/..." only for X at or below Y
# in the order written once in docs/architecture.md (scripts/check-layers.sh).
check-layers:
	@scripts/check-layers.sh

# The unit tests run ZooKeeper sessions through libzookeeper_mt too, so they
# take the same LeakSanitizer suppressions as the brokers (tests/lsan.supp:
# leaks inside the library, never Samsa's allocations).
# UNIT_JOBS processes run shards of the tests (scripts/unit-tests.sh); make
# test uses one per core.
UNIT_JOBS ?= 1
unit-test: $(BUILD)/unit-tests
	LSAN_OPTIONS="$${LSAN_OPTIONS:+$$LSAN_OPTIONS:}suppressions=$(CURDIR)/tests/lsan.supp" scripts/unit-tests.sh $(BUILD)/unit-tests $(UNIT_JOBS)

# pytest-xdist workers: the tests mostly wait on clients, timers and other
# processes, so more workers than cores shorten the run (measured in
# docs/reliability.md "make test timing": the release pass gains nothing
# past 4; the ASan + UBSan pass left a core idle a quarter of the time
# with 3 and is 23% shorter with 5).
IT_JOBS ?= 4
SAN_IT_JOBS ?= 5
# make test's sanitizer pass leaves out the kafkajs tests (client
# compatibility, run against the release broker); `make sanitize-test` alone
# runs them.
SAN_IT_NODE ?= 1
integration-test: $(BUILD)/samsa-broker $(BUILD)/samsa
	SAMSA_IT_JOBS="$${SAMSA_IT_JOBS:-$(IT_JOBS)}" SAMSA_BROKER="$${SAMSA_BROKER:-$(BUILD)/samsa-broker}" SAMSA_CLI="$${SAMSA_CLI:-$(BUILD)/samsa}" scripts/integration.sh

# Third-party clients and Kafka's own tools against the release build
# (tests/ecosystem/*/run.sh; scripts/ecosystem.sh), then the compatibility
# matrix in build/compat/compatibility.md; `make compat-doc` copies it to docs/.
ecosystem-test: $(BUILD)/samsa-broker $(BUILD)/samsa
	SAMSA_BROKER="$${SAMSA_BROKER:-$(BUILD)/samsa-broker}" SAMSA_CLI="$${SAMSA_CLI:-$(BUILD)/samsa}" scripts/ecosystem.sh $(SUITES)

compat-doc:
	cp build/compat/compatibility.md docs/compatibility.md

# Only the CLI's integration tests (tests/integration/test_cli_*.py).
cli-test: $(BUILD)/samsa-broker $(BUILD)/samsa
	SAMSA_BROKER="$${SAMSA_BROKER:-$(BUILD)/samsa-broker}" SAMSA_CLI="$${SAMSA_CLI:-$(BUILD)/samsa}" \
	  /usr/bin/python3 -m pytest tests/integration/test_cli_*.py -q -p no:cacheprovider

# The sanitizer pass: unit and integration tests against an ASan + UBSan
# build in $(SAN_BUILD) (the integration fixtures fail a test on any
# sanitizer report in a broker's log).  SAMSA_SAN_PASS=1 skips the tests
# marked san_skip (a long wait whose C path others run) and
# SAMSA_KAFKA_PEER=0 the Apache Kafka side of the comparisons with Kafka
# (a JVM each, no Samsa code; their Samsa side still runs).
SAN_BUILD ?= build-san
# Builds inside make test use every core (a plain `make test` has no -j).
NPROC := $(shell nproc 2>/dev/null || echo 2)
sanitize-test:
	$(MAKE) -j$(NPROC) BUILD=$(SAN_BUILD) SANITIZE=1 all $(SAN_BUILD)/unit-tests
	$(MAKE) BUILD=$(SAN_BUILD) SANITIZE=1 unit-test UNIT_JOBS=$(UNIT_JOBS)
	SAMSA_SAN_PASS=1 SAMSA_KAFKA_PEER=0 SAMSA_IT_NODE=$(SAN_IT_NODE) SAMSA_IT_JOBS="$${SAMSA_IT_JOBS:-$(SAN_IT_JOBS)}" SAMSA_BROKER=$(SAN_BUILD)/samsa-broker SAMSA_CLI=$(SAN_BUILD)/samsa scripts/integration.sh

# Everything CI runs: release unit + integration tests, the fuzz corpora and
# regressions replayed, each fuzz target for a bounded time, then the
# sanitizer pass.
STAMP = @echo "== make test: $$(date +%T) $(1)"
test: check-layers deps
	$(call STAMP,build)
	$(MAKE) -j$(NPROC) all $(BUILD)/unit-tests
	$(MAKE) unit-test UNIT_JOBS=$(NPROC)
	$(call STAMP,fuzz)
	$(MAKE) -j$(NPROC) fuzz-build
	$(MAKE) fuzz-regress FUZZ_JOBS=$(NPROC)
	$(MAKE) fuzz-ci FUZZ_CI_SECONDS=$(TEST_FUZZ_SECONDS) FUZZ_JOBS=$(NPROC)
	$(call STAMP,integration)
	$(MAKE) integration-test
	$(call STAMP,ecosystem)
	$(MAKE) ecosystem-test
	$(call STAMP,sanitizer pass)
	$(MAKE) sanitize-test SAN_IT_NODE=0 UNIT_JOBS=$(NPROC)
	$(call STAMP,done)

run: deps
	$(MAKE) all
	$(BUILD)/samsa-broker config/server.properties

# make cluster: ZooKeeper (127.0.0.1:2181) and three brokers in cluster mode
# (127.0.0.1:9092, 9093, 9094), data and generated configs in ./data/cluster,
# in the foreground; Ctrl-C stops them all (scripts/cluster.sh).
.PHONY: cluster
cluster: deps
	$(MAKE) all
	SAMSA_BROKER=$(BUILD)/samsa-broker scripts/cluster.sh

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(BROKER_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# ------------------------------------------------------------------ fuzzing
# libFuzzer harnesses tests/fuzz/fuzz_*.c, built with clang + ASan + UBSan
# against an instrumented copy of libsamsa.a in $(BUILD)/fuzz/ (see
# docs/reliability.md, "Fuzzing"; the runner is tests/fuzz/run.sh).
#   make fuzz [FUZZ_SECONDS=600]   run each target that long (default 30 s)
#   make fuzz-ci                   each target FUZZ_CI_SECONDS (default 20 s)
#   make fuzz-regress              replay tests/fuzz/regressions + corpus once
#   make fuzz FUZZ_TARGETS=fuzz_frame   only some targets
FUZZ_CC         ?= clang
FUZZ_SECONDS    ?= 30
FUZZ_CI_SECONDS ?= 20
# Per target, in make test (CI).
TEST_FUZZ_SECONDS ?= 5
# Targets fuzzed at once (libFuzzer is single-threaded); make test: one per core.
FUZZ_JOBS ?= 1
FUZZ_DIR        := $(BUILD)/fuzz
FUZZ_OBJDIR     := $(FUZZ_DIR)/obj
FUZZ_SAN        := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS     := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_ALL        := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_TARGETS    ?= $(FUZZ_ALL)
FUZZ_BINS       := $(FUZZ_ALL:%=$(FUZZ_DIR)/%)
FUZZ_LIB_OBJ    := $(LIB_SRC:%.c=$(FUZZ_OBJDIR)/%.o)
FUZZ_HARN_OBJ   := $(FUZZ_ALL:%=$(FUZZ_OBJDIR)/tests/fuzz/%.o)

.PHONY: fuzz fuzz-ci fuzz-regress fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OBJDIR)/libsamsa.a: $(FUZZ_LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_DIR)/%: $(FUZZ_OBJDIR)/tests/fuzz/%.o $(FUZZ_OBJDIR)/libsamsa.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $(filter %.o,$^) $(FUZZ_OBJDIR)/libsamsa.a $(LDLIBS) -o $@

# The CLI's Metadata decoder is not in libsamsa.a.
$(FUZZ_DIR)/fuzz_cli_meta: $(FUZZ_OBJDIR)/src/cli/meta_wire.o $(FUZZ_OBJDIR)/src/cli/txn_wire.o

fuzz: fuzz-build
	tests/fuzz/run.sh run $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-ci: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh run $(FUZZ_DIR) $(FUZZ_CI_SECONDS) $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh regress $(FUZZ_DIR) 0 $(FUZZ_TARGETS)

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_HARN_OBJ:.o=.d)

# --------------------------------------------------------------- benchmarks
# make bench: Samsa against Apache Kafka 4.4.0 (KRaft, one node), librdkafka's
# mock cluster, Redis Streams and NATS JetStream on loopback (bench/run.py,
# bench/README.md); prints the tables and writes docs/benchmarks.md +
# docs/benchmarks-throughput.svg (~27 min). BENCH_QUICK=1: ~10-minute smoke run (report
# in $(BUILD)/bench/). make bench-perftest: only Kafka's own perf tools
# against Samsa and Kafka (report in $(BUILD)/bench/). Not part of make test.
BENCH_DIR    := $(BUILD)/bench
BENCH_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -pthread -Wall -Wextra -Werror -Wshadow \
                -Wformat=2 -Wvla
BENCH_BINS   := $(BENCH_DIR)/mock_cluster $(BENCH_DIR)/redis_bench $(BENCH_DIR)/nats_bench \
                $(BENCH_DIR)/stall_probe

.PHONY: bench bench-build bench-perftest
bench-build: $(BUILD)/samsa-broker $(BUILD)/samsa $(BENCH_BINS)

$(BENCH_DIR)/mock_cluster: bench/mock_cluster.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< -o $@ -lrdkafka

$(BENCH_DIR)/redis_bench: bench/redis_bench.c bench/bench_util.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< -o $@ -lhiredis

$(BENCH_DIR)/nats_bench: bench/nats_bench.c bench/bench_util.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< -o $@

$(BENCH_DIR)/stall_probe: bench/stall_probe.c bench/bench_util.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< -o $@

bench:
	@scripts/deps.sh --bench
	$(MAKE) bench-build
	/usr/bin/python3 bench/run.py --build $(BUILD) --no-build

bench-perftest:
	@scripts/deps.sh --bench
	$(MAKE) bench-build
	BENCH_ONLY=perftest BENCH_SYSTEMS=samsa,kafka /usr/bin/python3 bench/run.py --build $(BUILD) --no-build \
	    --results $(BENCH_DIR)/perftest-results.json --out-md $(BENCH_DIR)/perftest.md --out-svg $(BENCH_DIR)/perftest.svg

# make bench-reassign: issue 14's reassignment figures (bench/reassign_bench.py):
# seconds and MB/s to move 1 GB to an empty broker with and without a
# throttle, produce p99 (acks=all, steady rate) alone and during a move
# (~3 minutes; BENCH_QUICK=1 ~30 s). Not part of make bench or make test.
.PHONY: bench-reassign
bench-reassign: deps
	$(MAKE) $(BUILD)/samsa-broker $(BUILD)/samsa
	/usr/bin/python3 bench/reassign_bench.py --build $(BUILD)

# make bench-txn: issue 16's transaction figures (bench/txn_bench.py): Samsa
# and Apache Kafka 4.4 (one node each, the same confluent-kafka client):
# transactional produce throughput at commit intervals of 10 ms and 100 ms
# against an idempotent producer, commit latency p50/p99, medians of 3
# (~3 minutes; BENCH_QUICK=1 ~1 minute). Not part of make bench or make test.
.PHONY: bench-txn
bench-txn: deps
	$(MAKE) $(BUILD)/samsa-broker $(BUILD)/samsa
	/usr/bin/python3 bench/txn_bench.py --build $(BUILD) --out $(BUILD)/bench-txn.json

# make bench-security: issue 17's security figures (bench/security_bench.py):
# one broker with PLAINTEXT and SSL listeners - produce/consume MB/s over each,
# kTLS (on, or not available on this kernel), connection set-up rate over
# each; medians of 3 (~1 minute; BENCH_QUICK=1 ~15 s). Not part of make bench
# or make test.
.PHONY: bench-security
bench-security: deps
	$(MAKE) $(BUILD)/samsa-broker $(BUILD)/samsa
	/usr/bin/python3 bench/security_bench.py --build $(BUILD) --out $(BUILD)/bench-security.json

# make bench-cluster: issue 13's cluster figures on a three-broker loopback
# cluster (bench/cluster_bench.py): RF=3 vs RF=1 produce throughput, latency
# at 10,000 msg/s, failover time after kill -9 and SIGTERM of a leader
# (~6 minutes; BENCH_QUICK=1 ~1 minute). Not part of make bench or make test.
.PHONY: bench-cluster
bench-cluster: deps
	$(MAKE) $(BUILD)/samsa-broker $(BUILD)/samsa
	/usr/bin/python3 bench/cluster_bench.py --build $(BUILD)

# make torture-cluster: issue 14's cluster fault runner (tests/torture_cluster/,
# docs/reliability.md "Cluster fault runs"): ZooKeeper and 3 brokers under
# idempotent producers and a consumer group; ROUNDS rounds of every fault kind
# (kill -9 of a leader and of the controller, a paused leader, a network
# partition in network namespaces, short and long ZooKeeper outages, a rolling
# restart, a full disk), then the history checks. Prints its seed; SEED=N
# replays a schedule. KINDS=a,b runs only some kinds. Against the ASan build:
# make torture-cluster SAMSA_BROKER=build-san/samsa-broker (build it first with
# make BUILD=build-san SANITIZE=1 all). A short sample runs in make test
# (tests/integration/test_torture_cluster.py). Not part of make test.
ROUNDS ?= 20
SEED ?=
KINDS ?=
SESSION_TIMEOUT_MS ?= 6000
.PHONY: torture-cluster
torture-cluster: deps
	$(MAKE) all
	SAMSA_BROKER="$${SAMSA_BROKER:-$(BUILD)/samsa-broker}" /usr/bin/python3 tests/torture_cluster/runner.py \
	  --rounds $(ROUNDS) --session-timeout-ms $(SESSION_TIMEOUT_MS) \
	  $(if $(SEED),--seed $(SEED)) $(if $(KINDS),--kinds $(KINDS)) \
	  --json $(BUILD)/torture-cluster.json

# make txn-torture: issue 16's transaction crash runs (tests/torture_txn/,
# docs/reliability.md "Transaction crash runs"): ZooKeeper and 3 brokers,
# TXN_ROUNDS transactions each with a kill -9 of the coordinator or of a
# partition leader at one step (after AddPartitions, in PrepareCommit before
# any marker, after the markers of some partitions, a leader before its
# marker), then the exactly-once pipeline (EOS_RECORDS records copied while
# EOS_FAULTS kill -9s hit the copier and brokers). SEED=N replays a schedule;
# SAMSA_TXN_PEER=kafka runs it against Apache Kafka 4.4. make eos-check: only
# the pipeline. A quick sample runs in make test
# (tests/integration/test_txn_torture.py). Not part of make test.
TXN_ROUNDS ?= 20
EOS_RECORDS ?= 5000
EOS_FAULTS ?= 8
.PHONY: txn-torture eos-check
txn-torture: deps
	$(MAKE) $(BUILD)/samsa-broker $(BUILD)/samsa
	SAMSA_BROKER="$${SAMSA_BROKER:-$(BUILD)/samsa-broker}" /usr/bin/python3 tests/torture_txn/txn_runner.py \
	  --rounds $(TXN_ROUNDS) --eos-records $(EOS_RECORDS) --eos-faults $(EOS_FAULTS) \
	  $(if $(SEED),--seed $(SEED)) --json $(BUILD)/txn-torture.json
eos-check: deps
	$(MAKE) $(BUILD)/samsa-broker $(BUILD)/samsa
	SAMSA_BROKER="$${SAMSA_BROKER:-$(BUILD)/samsa-broker}" /usr/bin/python3 tests/torture_txn/txn_runner.py \
	  --rounds 0 --eos-records $(EOS_RECORDS) --eos-faults $(EOS_FAULTS) \
	  $(if $(SEED),--seed $(SEED)) --json $(BUILD)/eos-check.json
