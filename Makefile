# Samsa build. Plain make; every .c under src/ is compiled automatically.
#   make              build build/samsa-broker (and unit tests binary on demand)
#   make SANITIZE=1   same tree with ASan + UBSan (objects kept apart per mode)
#   make test         install missing deps, build, run unit + integration tests
#   make run          install missing deps, build, start a broker on :9092, data in ./data

CC       ?= cc
SANITIZE ?= 0
MODE     := $(if $(filter 1,$(SANITIZE)),san,rel)
OBJDIR   := build/obj/$(MODE)

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
LDLIBS  := -lisal -lcjson -lpthread -lm
LDFLAGS += $(LDFLAGS_SAN)

LIB_SRC    := $(shell find src -name '*.c' ! -path 'src/cli/*' ! -name 'main.c' | sort)
LIB_OBJ    := $(LIB_SRC:%.c=$(OBJDIR)/%.o)
BROKER_OBJ := $(OBJDIR)/src/broker/main.o
UNIT_SRC   := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ   := $(UNIT_SRC:%.c=$(OBJDIR)/%.o)

.PHONY: all deps test unit-test integration-test run clean bench docs
all: build/samsa-broker

# Binaries are relinked when the mode changes (the stamp records it).
build/.mode-$(MODE):
	@mkdir -p build && rm -f build/.mode-* && touch $@

$(OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(OBJDIR)/libsamsa.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

build/samsa-broker: $(BROKER_OBJ) $(OBJDIR)/libsamsa.a build/.mode-$(MODE)
	$(CC) $(LDFLAGS) $(BROKER_OBJ) $(OBJDIR)/libsamsa.a $(LDLIBS) -o $@

build/unit-tests: $(UNIT_OBJ) $(OBJDIR)/libsamsa.a build/.mode-$(MODE)
	$(CC) $(LDFLAGS) $(UNIT_OBJ) $(OBJDIR)/libsamsa.a $(LDLIBS) -o $@

deps:
	@scripts/deps.sh

unit-test: build/unit-tests
	build/unit-tests

integration-test: build/samsa-broker
	scripts/integration.sh

test: deps
	$(MAKE) all build/unit-tests
	$(MAKE) unit-test
	$(MAKE) integration-test

run: deps
	$(MAKE) all
	build/samsa-broker config/server.properties

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BROKER_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
