# collab: an nginx module that turns nginx into a collaboration backend.
#
#   make          build build/ngx_http_collab_module.so
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
SOURCES     = config $(shell find ngx_collab_module -name '*.[ch]') \
              $(wildcard console/*) util/console-embed.sh

UNIT_SRCS   = $(wildcard t/unit/test_*.c)
UNIT_BINS   = $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
UNIT_LIBS   = ngx_collab_module/core/ngx_collab_json.c \
              ngx_collab_module/core/ngx_collab_utf8.c \
              ngx_collab_module/core/ngx_collab_sign.c \
              ngx_collab_module/core/ngx_collab_id.c \
              ngx_collab_module/core/ngx_collab_ctoken.c
UNIT_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -O1 -g -Ingx_collab_module/core

ASAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
	          -fno-sanitize-recover=undefined

# the project's own Test::Nginx::Socket, unless Perl has one installed
PROVE_INC   = $(shell perl -MTest::Nginx::Socket -e1 2>/dev/null \
	            || echo "-I t/lib")
TEST_MODULES = /usr/lib/nginx/modules/ngx_http_js_module.so

# nginx 1.26 (Debian trixie's): the module is built against it as well, so
# that a break with a newer nginx shows up in `make test`
NGINX126    = 1.26.3

.PHONY: all deps run test test-unit test-nginx build-nginx126 test-asan \
        bench clean deb test-deb test-browser

all: $(MODULE)

deps:
	@util/deps.sh $(BUILD)

$(MODULE): $(SOURCES) | deps
	util/build-module.sh $(BUILD)

$(ASAN_MODULE): $(SOURCES) | deps
	COLLAB_CC_OPT="$(ASAN_FLAGS)" COLLAB_LD_OPT="$(ASAN_FLAGS)" \
	    util/build-module.sh $(ASAN_BUILD)

run: $(MODULE) | deps
	PORT=$(PORT) NGINX_BIN=$(NGINX) util/run.sh

$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h $(UNIT_LIBS) $(wildcard ngx_collab_module/core/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(UNIT_LIBS) \
	    -ljansson -lcrypto -lm

test-unit: $(UNIT_BINS) | deps
	prove --exec '' $(UNIT_BINS)
	prove --exec bash t/unit/*.t

test-nginx: $(MODULE) | deps
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

test-asan: $(ASAN_MODULE) | deps
	TEST_NGINX_COLLAB_EXPRESS_DIR=$(EXPRESS_DIR) \
	TEST_NGINX_COLLAB_OPENAPI_DIR=$(OPENAPI_DIR) \
	    util/test-asan.sh $(ASAN_BUILD) "$(PROVE_INC)" "$(TEST_MODULES)"

deb:
	util/deb.sh $(BUILD)/deb

test-deb: deb
	util/test-deb.sh $(BUILD)/deb

test-browser: $(MODULE) | deps
	NGINX_BIN=$(NGINX) util/test-browser.sh $(BUILD)

bench: $(MODULE) | deps
	bench/run.sh $(BUILD)
	bench/room-data.sh $(BUILD)
	bench/presence.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) t/servroot*
