# mapreduce: Pool.map for a cluster.
#   make            build ./mapreduce (and the example plugin and program)
#   make deps       install the Debian packages that are missing (as root)
#   make demo       deps + build + the primes demo on 8 ranks
#   make test       unit tests (cmocka) and mpirun integration tests
#   make bench      benchmarks against the peers (not part of test);
#                   make bench ARGS=--quick: options of bench/run.sh --help
#   make SANITIZER=address|undefined test
#   make WERROR=1   warnings are errors (CI)
#   make install    PREFIX=/usr/local DESTDIR= (make uninstall: the same files)

CC       := mpicc
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-sign-conversion
CPPFLAGS := -Iinclude -Isrc -Ijobs -D_GNU_SOURCE -MMD -MP
# the checkout's path stays out of the objects (debug info names sources
# relative to it), so an installed binary holds no trace of the checkout
ALLFLAGS  = -std=c11 $(WARN) $(CFLAGS) -pthread -fvisibility=hidden \
            -ffile-prefix-map=$(CURDIR)=.
LDLIBS   := -lgmp -lm -ldl -pthread
BUILD    := build

ifeq ($(WERROR),1)
ALLFLAGS += -Werror
endif
# the program: ./mapreduce, or build-SANITIZER/mapreduce for a checked build
BIN      := mapreduce
EXAMPLE  := examples/map_example
ifneq ($(SANITIZER),)
ALLFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZER)
BUILD    := build-$(SANITIZER)
BIN      := $(BUILD)/mapreduce
EXAMPLE  := $(BUILD)/examples/map_example
endif

LIB_SRC := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
JOB_SRC := $(filter-out jobs/plugin_%.c,$(wildcard jobs/*.c))
LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC) $(JOB_SRC))
LIB     := $(BUILD)/libmapreduce.a

PLUGINS := $(patsubst jobs/plugin_%.c,jobs/lib%.so,$(wildcard jobs/plugin_*.c))

TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

# Open MPI refuses root and more ranks than cores unless told; the project
# tells it, so nobody else has to.
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_rmaps_base_oversubscribe := 1
MPIRUN ?= mpirun

.PHONY: all deps demo test unit integration bench clean install uninstall
all: $(BIN) $(PLUGINS) $(EXAMPLE)

# the library example: a program of the user's, linked with the library
$(EXAMPLE): examples/map_example.c $(LIB) include/mapreduce.h
	@mkdir -p $(dir $@)
	$(CC) -Iinclude $(ALLFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# job plugins: plain cc, no MPI, nothing but include/mapreduce.h
jobs/lib%.so: jobs/plugin_%.c include/mapreduce.h
	cc -std=c11 $(WARN) $(if $(filter 1,$(WERROR)),-Werror) -O2 -shared -fPIC -Iinclude -o $@ $<

# -rdynamic: plugins call mr_buf_* and friends from the executable
$(BIN): $(BUILD)/src/cli/main.o $(LIB) Makefile
	$(CC) $(ALLFLAGS) $(LDFLAGS) -rdynamic -o $@ $(BUILD)/src/cli/main.o -Wl,--whole-archive $(LIB) -Wl,--no-whole-archive $(LDLIBS)

$(LIB): $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLFLAGS) -c -o $@ $<

# -rdynamic and the whole library: test_job loads plugins that call back
# into it, as they do into ./mapreduce
$(BUILD)/tests/test_%: tests/test_%.c $(LIB) $(PLUGINS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMR_ROOT='"$(CURDIR)"' $(ALLFLAGS) $(LDFLAGS) -rdynamic -o $@ $< \
	  -Wl,--whole-archive $(LIB) -Wl,--no-whole-archive -lcmocka $(LDLIBS)

deps:
	@sh tools/deps.sh

demo: deps
	$(MAKE) all
	$(MPIRUN) -q -np 8 ./mapreduce jobs/primes.txt

# every target builds what its tests run: the program, the plugins the
# tests load and the library example they start
test: all $(TEST_BIN)
	@MR=$(abspath $(BIN)) MR_EXAMPLE=$(abspath $(EXAMPLE)) sh tests/run.sh $(BUILD)

unit: $(TEST_BIN)
	@sh tests/run.sh $(BUILD) unit

integration: all
	@MR=$(abspath $(BIN)) MR_EXAMPLE=$(abspath $(EXAMPLE)) sh tests/run.sh $(BUILD) integration

bench: mapreduce
	@sh tools/deps.sh --bench
	@sh bench/run.sh $(ARGS)

# ---- install: what a cluster's /opt or $HOME gets. Nothing installed
# refers to the checkout, and nothing is compiled in from PREFIX: the same
# build installs anywhere. The library is static only (the program links it
# whole; a library user links what it calls).
PREFIX      ?= /usr/local
bindir      := $(PREFIX)/bin
includedir  := $(PREFIX)/include
libdir      := $(PREFIX)/lib
datadir     := $(PREFIX)/share
mandir      := $(datadir)/man
pkgdatadir  := $(datadir)/mapreduce
docdir      := $(datadir)/doc/mapreduce
pcdir       := $(libdir)/pkgconfig
bashcompdir := $(datadir)/bash-completion/completions
VERSION     := $(shell sed -n 's/^\#define MR_VERSION "\(.*\)"/\1/p' include/mapreduce.h)
# share/mapreduce/: sources and samples as they are; the batch scripts
# start the installed binary instead of ./mapreduce, and the man page names
# the installed paths (it says /usr/local/, the default)
SHARE_FILES   := jobs/plugin_collatz.c examples/map_example.c jobs/primes.txt \
                 jobs/sleeps.txt hostfile.example python/mapreduce_worker.py \
                 python/is_prime.py python/calc_stuff.py examples/reducer.py
SHARE_SCRIPTS := jobs/slurm.sbatch jobs/pbs.sh
DOC_FILES     := $(wildcard doc/*.md doc/*.svg)
# every file install writes, for uninstall to remove exactly those
INSTALLED := $(bindir)/mapreduce $(includedir)/mapreduce.h $(libdir)/libmapreduce.a \
             $(pcdir)/mapreduce.pc $(mandir)/man1/mapreduce.1 $(bashcompdir)/mapreduce \
             $(addprefix $(pkgdatadir)/,$(notdir $(SHARE_FILES) $(SHARE_SCRIPTS)) modulefile) \
             $(addprefix $(docdir)/,$(notdir $(DOC_FILES)))

install: $(BIN) $(LIB)
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(includedir) $(DESTDIR)$(pcdir) \
	  $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(bashcompdir) $(DESTDIR)$(pkgdatadir) $(DESTDIR)$(docdir)
	install -m 755 $(BIN) $(DESTDIR)$(bindir)/mapreduce
	install -m 644 include/mapreduce.h $(DESTDIR)$(includedir)/mapreduce.h
	install -m 644 $(LIB) $(DESTDIR)$(libdir)/libmapreduce.a
	sed -e 's|@prefix@|$(PREFIX)|' -e 's|@version@|$(VERSION)|' tools/mapreduce.pc.in \
	  > $(DESTDIR)$(pcdir)/mapreduce.pc
	sed -e 's|@prefix@|$(PREFIX)|' -e 's|@version@|$(VERSION)|' tools/modulefile.in \
	  > $(DESTDIR)$(pkgdatadir)/modulefile
	sed 's|/usr/local/|$(PREFIX)/|g' doc/mapreduce.1 > $(DESTDIR)$(mandir)/man1/mapreduce.1
	install -m 644 tools/completion.bash $(DESTDIR)$(bashcompdir)/mapreduce
	install -m 644 $(SHARE_FILES) $(DESTDIR)$(pkgdatadir)/
	for f in $(SHARE_SCRIPTS); do \
	  sed 's| \./mapreduce | $(bindir)/mapreduce |' $$f > $(DESTDIR)$(pkgdatadir)/$${f##*/} && \
	  chmod 755 $(DESTDIR)$(pkgdatadir)/$${f##*/} || exit 1; done
	$(if $(DOC_FILES),install -m 644 $(DOC_FILES) $(DESTDIR)$(docdir)/)

# the files install wrote and the two folders that are mapreduce's alone
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(pkgdatadir) $(DESTDIR)$(docdir) 2> /dev/null || true

clean:
	rm -rf build build-* mapreduce $(PLUGINS) examples/map_example

-include $(shell find build* -name '*.d' 2>/dev/null)
