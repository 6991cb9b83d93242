# Samsa build. Plain make; every .c under src/ is compiled automatically.
#   make              build build/samsa-broker (and unit tests binary on demand)
#   make SANITIZE=1   same tree with ASan + UBSan (objects kept apart per mode)
#   make test         install missing deps, build, run unit + integration tests
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
LDLIBS  := -lisal -lcjson -lz -lsnappy -llz4 -lzstd -lpthread -lm
LDFLAGS += $(LDFLAGS_SAN)

LIB_SRC    := $(shell find src -name '*.c' ! -path 'src/cli/*' ! -name 'main.c' | sort)
LIB_OBJ    := $(LIB_SRC:%.c=$(OBJDIR)/%.o)
BROKER_OBJ := $(OBJDIR)/src/broker/main.o
UNIT_SRC   := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ   := $(UNIT_SRC:%.c=$(OBJDIR)/%.o)
# The samsa CLI: src/cli/*.c on librdkafka (not part of libsamsa.a).
CLI_SRC    := $(sort $(wildcard src/cli/*.c))
CLI_OBJ    := $(CLI_SRC:%.c=$(OBJDIR)/%.o)
CLI_LIBS   := -lrdkafka -lpthread -lm

.PHONY: all deps test unit-test unit-tests integration-test cli-test run clean bench docs
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

$(BUILD)/unit-tests: $(UNIT_OBJ) $(OBJDIR)/libsamsa.a $(BUILD)/.mode-$(MODE)
	$(CC) $(LDFLAGS) $(UNIT_OBJ) $(OBJDIR)/libsamsa.a $(LDLIBS) -o $@

$(BUILD)/samsa: $(CLI_OBJ) $(BUILD)/.mode-$(MODE)
	$(CC) $(LDFLAGS) $(CLI_OBJ) $(CLI_LIBS) -o $@

deps:
	@scripts/deps.sh

unit-test: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

integration-test: $(BUILD)/samsa-broker $(BUILD)/samsa
	SAMSA_BROKER="$${SAMSA_BROKER:-$(BUILD)/samsa-broker}" SAMSA_CLI="$${SAMSA_CLI:-$(BUILD)/samsa}" scripts/integration.sh

# Only the CLI's integration tests (tests/integration/test_cli_*.py).
cli-test: $(BUILD)/samsa-broker $(BUILD)/samsa
	SAMSA_BROKER="$${SAMSA_BROKER:-$(BUILD)/samsa-broker}" SAMSA_CLI="$${SAMSA_CLI:-$(BUILD)/samsa}" \
	  /usr/bin/python3 -m pytest tests/integration/test_cli_*.py -q -p no:cacheprovider

test: deps
	$(MAKE) all $(BUILD)/unit-tests
	$(MAKE) unit-test
	$(MAKE) integration-test

run: deps
	$(MAKE) all
	$(BUILD)/samsa-broker config/server.properties

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(BROKER_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
