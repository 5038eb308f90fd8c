# collab: an nginx module that turns nginx into a collaboration backend.
#
#   make          build build/ngx_http_collab_module.so and build/collab-runner
#   make run      start nginx with the module on 127.0.0.1:$(PORT)
#   make test     unit tests, a build against nginx 1.26, the Test::Nginx suite
#   make test-asan  the same suite with AddressSanitizer + UBSan
#   make test-browser  the console in a headless Chromium (puppeteer-core);
#                 its screenshot in build/console.png
#   make bench    benchmarks, as ratios against baselines of the same run
#   make deps     install the Debian and npm packages all of the above need;
#                 every target runs it first
#   make deb      the Debian package libnginx-mod-http-collab, in build/deb
#   make test-deb install that package into the stock nginx, try it, purge it

BUILD      ?= build
ASAN_BUILD ?= build-asan
PORT       ?= 8080
NGINX      ?= /usr/sbin/nginx
CC         ?= cc

MODULE      = $(BUILD)/ngx_http_collab_module.so
EXPRESS_DIR = $(CURDIR)/$(BUILD)/express
OPENAPI_DIR = $(CURDIR)/$(BUILD)/openapi
ASAN_MODULE = $(ASAN_BUILD)/ngx_http_collab_module.so
SOURCES     = config $(shell find ngx_collab_module -name '*.[ch]' \
                         -not -path '*/runner/*') \
              $(wildcard console/*) util/console-embed.sh

# the workflow runner: its own executable, with QuickJS built from Debian's
# source package (util/quickjs.sh) and only the core code that needs no
# nginx
RUNNER      = $(BUILD)/collab-runner
ASAN_RUNNER = $(ASAN_BUILD)/collab-runner
RUNNER_DIR  = ngx_collab_module/runner
RUNNER_SRCS = $(wildcard $(RUNNER_DIR)/*.c)
RUNNER_CORE = ngx_collab_module/core/ngx_collab_json.c \
              ngx_collab_module/core/ngx_collab_utf8.c \
              ngx_collab_module/core/ngx_collab_id.c \
              ngx_collab_module/core/ngx_collab_url.c \
              ngx_collab_module/core/ngx_collab_sign.c
RUNNER_DEPS = $(RUNNER_SRCS) $(wildcard $(RUNNER_DIR)/*.h) $(RUNNER_CORE) \
              $(wildcard ngx_collab_module/core/*.h)
RUNNER_CFLAGS = -std=gnu11 -g -D_GNU_SOURCE -Wall -Wextra \
              -Wno-unused-parameter -Werror -Ingx_collab_module/core \
              -I$(RUNNER_DIR)
# more flags for the runner alone: debian/rules passes the hardening flags
# of dpkg-buildflags
RUNNER_EXTRA_CFLAGS  ?=
RUNNER_EXTRA_LDFLAGS ?=
RUNNER_LIBS = -lcurl -lcares -lseccomp -lsqlite3 -ljansson -lssl -lcrypto \
              -lm -ldl -lpthread
RUNNER_JS   = $(RUNNER_DIR)/ngx_collab_prelude.js \
              $(RUNNER_DIR)/ngx_collab_builtins.js \
              $(RUNNER_DIR)/ngx_collab_text.js \
              $(RUNNER_DIR)/ngx_collab_inspect.js \
              $(RUNNER_DIR)/ngx_collab_url.js \
              $(RUNNER_DIR)/ngx_collab_fetchapi.js
# the module's schema as SQL, for the runner's tests and bench
SCHEMA_SQL  = $(BUILD)/runner/collab-schema

UNIT_SRCS   = $(filter-out t/unit/test_runner_%.c,$(wildcard t/unit/test_*.c))
RUNNER_UNIT_SRCS = $(wildcard t/unit/test_runner_*.c)
RUNNER_UNIT_BINS = $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(RUNNER_UNIT_SRCS))
UNIT_BINS   = $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
UNIT_LIBS   = ngx_collab_module/core/ngx_collab_json.c \
              ngx_collab_module/core/ngx_collab_utf8.c \
              ngx_collab_module/core/ngx_collab_url.c \
              ngx_collab_module/core/ngx_collab_sign.c \
              ngx_collab_module/core/ngx_collab_id.c \
              ngx_collab_module/core/ngx_collab_ctoken.c
UNIT_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -O1 -g -Ingx_collab_module/core

ASAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
	          -fno-sanitize-recover=undefined
# QuickJS itself is built with AddressSanitizer only: its own code shifts
# signed values on purpose, which UBSan would stop at
QJS_ASAN_FLAGS = -fsanitize=address -fno-omit-frame-pointer

# the project's own Test::Nginx::Socket, unless Perl has one installed
PROVE_INC   = $(shell perl -MTest::Nginx::Socket -e1 2>/dev/null \
	            || echo "-I t/lib")
TEST_MODULES = /usr/lib/nginx/modules/ngx_http_js_module.so

# nginx 1.26 (Debian trixie's): the module is built against it as well, so
# that a break with a newer nginx shows up in `make test`
NGINX126    = 1.26.3

.PHONY: all deps run test test-unit test-nginx build-nginx126 test-asan \
        bench clean deb test-deb test-browser

all: $(MODULE) $(RUNNER)

deps:
	@util/deps.sh $(BUILD)

$(MODULE): $(SOURCES) | deps
	util/build-module.sh $(BUILD)

$(ASAN_MODULE): $(SOURCES) | deps
	COLLAB_CC_OPT="$(ASAN_FLAGS)" COLLAB_LD_OPT="$(ASAN_FLAGS)" \
	    util/build-module.sh $(ASAN_BUILD)

$(BUILD)/quickjs/libquickjs.a: util/quickjs.sh util/debian-source.sh | deps
	util/quickjs.sh $(BUILD)

$(ASAN_BUILD)/quickjs/libquickjs.a: util/quickjs.sh util/debian-source.sh \
                                    | deps
	util/quickjs.sh $(ASAN_BUILD) "$(QJS_ASAN_FLAGS)"

%/runner/ngx_collab_prelude.h: $(RUNNER_JS) util/embed.pl
	@mkdir -p $(dir $@)
	perl util/embed.pl \
	    collab_prelude_source=$(RUNNER_DIR)/ngx_collab_prelude.js \
	    collab_builtins_source=$(RUNNER_DIR)/ngx_collab_builtins.js \
	    collab_text_source=$(RUNNER_DIR)/ngx_collab_text.js \
	    collab_inspect_source=$(RUNNER_DIR)/ngx_collab_inspect.js \
	    collab_url_source=$(RUNNER_DIR)/ngx_collab_url.js \
	    collab_fetchapi_source=$(RUNNER_DIR)/ngx_collab_fetchapi.js > $@

$(RUNNER): $(RUNNER_DEPS) $(BUILD)/quickjs/libquickjs.a \
           $(BUILD)/runner/ngx_collab_prelude.h | deps
	$(CC) $(RUNNER_CFLAGS) -O2 $(RUNNER_EXTRA_CFLAGS) -isystem $(BUILD)/quickjs \
	    -I$(BUILD)/runner -o $@ $(RUNNER_SRCS) $(RUNNER_CORE) \
	    $(BUILD)/quickjs/libquickjs.a $(RUNNER_EXTRA_LDFLAGS) $(RUNNER_LIBS)

$(ASAN_RUNNER): $(RUNNER_DEPS) $(ASAN_BUILD)/quickjs/libquickjs.a \
                $(ASAN_BUILD)/runner/ngx_collab_prelude.h | deps
	$(CC) $(RUNNER_CFLAGS) -O1 $(ASAN_FLAGS) -isystem $(ASAN_BUILD)/quickjs \
	    -I$(ASAN_BUILD)/runner -o $@ $(RUNNER_SRCS) $(RUNNER_CORE) \
	    $(ASAN_BUILD)/quickjs/libquickjs.a $(RUNNER_LIBS)

$(SCHEMA_SQL): t/runner/schema.c ngx_collab_module/storage/ngx_collab_schema.c \
               ngx_collab_module/storage/ngx_collab_schema.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -Ingx_collab_module/storage -o $@ $< \
	    ngx_collab_module/storage/ngx_collab_schema.c

run: $(MODULE) $(RUNNER) | deps
	PORT=$(PORT) NGINX_BIN=$(NGINX) util/run.sh

$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h $(UNIT_LIBS) $(wildcard ngx_collab_module/core/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(UNIT_LIBS) \
	    -ljansson -lcrypto -lm

$(BUILD)/unit/test_runner_pure: t/unit/test_runner_pure.c t/unit/tap.h \
        $(RUNNER_DIR)/ngx_collab_frame.c $(RUNNER_DIR)/ngx_collab_limits.c \
        $(RUNNER_DIR)/ngx_collab_sourcemap.c $(wildcard $(RUNNER_DIR)/*.h) \
        | deps
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -I$(RUNNER_DIR) $(ASAN_FLAGS) -o $@ $< \
	    $(RUNNER_DIR)/ngx_collab_frame.c $(RUNNER_DIR)/ngx_collab_limits.c \
	    $(RUNNER_DIR)/ngx_collab_sourcemap.c -ljansson

# console formatting: the runtime script in a bare engine
$(BUILD)/unit/test_runner_inspect: t/unit/test_runner_inspect.c t/unit/tap.h \
        $(BUILD)/quickjs/libquickjs.a $(BUILD)/runner/ngx_collab_prelude.h \
        | deps
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(ASAN_FLAGS) -isystem $(BUILD)/quickjs \
	    -I$(BUILD)/runner -o $@ $< $(BUILD)/quickjs/libquickjs.a \
	    -ljansson -lm -ldl -lpthread

# the runner's tests (t/runner/) start the real runner on a socket pair
test-unit: $(UNIT_BINS) $(RUNNER_UNIT_BINS) $(RUNNER) $(SCHEMA_SQL) | deps
	prove --exec '' $(UNIT_BINS) $(RUNNER_UNIT_BINS)
	prove --exec bash t/unit/*.t
	COLLAB_RUNNER=$(CURDIR)/$(RUNNER) COLLAB_SCHEMA=$(CURDIR)/$(SCHEMA_SQL) \
	    prove t/runner/

test-nginx: $(MODULE) $(RUNNER) | deps
	TEST_NGINX_BINARY=$(NGINX) \
	TEST_NGINX_LOAD_MODULES="$(TEST_MODULES) $(CURDIR)/$(MODULE)" \
	TEST_NGINX_COLLAB_LIB=$(CURDIR)/t/lib \
	TEST_NGINX_COLLAB_EXPRESS_DIR=$(EXPRESS_DIR) \
	TEST_NGINX_COLLAB_OPENAPI_DIR=$(OPENAPI_DIR) \
	    prove $(PROVE_INC) t/

build-nginx126: | deps
	src=$$(util/debian-source.sh nginx $(NGINX126) $(BUILD)/src) \
	    && NGINX_SRC=$$src util/build-module.sh $(BUILD)/nginx-1.26

test: test-unit build-nginx126 test-nginx

# the runner's tests with the sanitizers: once without the system call
# filter, so that LeakSanitizer can look for leaks at exit, and a part of
# them again with it; then the suite, whose nginx starts that runner
test-asan: $(ASAN_MODULE) $(ASAN_RUNNER) $(SCHEMA_SQL) | deps
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 \
	COLLAB_RUNNER=$(CURDIR)/$(ASAN_RUNNER) COLLAB_RUNNER_ARGS=--no-seccomp \
	COLLAB_SCHEMA=$(CURDIR)/$(SCHEMA_SQL) \
	    prove t/runner/
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1 \
	COLLAB_RUNNER=$(CURDIR)/$(ASAN_RUNNER) \
	COLLAB_SCHEMA=$(CURDIR)/$(SCHEMA_SQL) \
	    prove t/runner/020-seed.t t/runner/050-fetch.t t/runner/060-sandbox.t
	TEST_NGINX_COLLAB_EXPRESS_DIR=$(EXPRESS_DIR) \
	TEST_NGINX_COLLAB_OPENAPI_DIR=$(OPENAPI_DIR) \
	    util/test-asan.sh $(ASAN_BUILD) "$(PROVE_INC)" "$(TEST_MODULES)"

deb:
	util/deb.sh $(BUILD)/deb

test-deb: deb
	util/test-deb.sh $(BUILD)/deb

test-browser: $(MODULE) $(RUNNER) | deps
	NGINX_BIN=$(NGINX) util/test-browser.sh $(BUILD)

bench: $(MODULE) $(RUNNER) $(SCHEMA_SQL) | deps
	bench/run.sh $(BUILD)
	bench/webhooks.sh $(BUILD)
	bench/write-path.sh
	bench/room-data.sh $(BUILD)
	bench/presence.sh $(BUILD)
	bench/workflows-runner.sh $(BUILD)
	bench/workflows.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) t/servroot*
