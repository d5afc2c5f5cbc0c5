# SPDX-License-Identifier: BSD-3-Clause
# libFuzzer targets for the parsers, all in one program: tests/fuzz/ckfuzz.
#
# Adding a target NAME (one line here):
#   1. tests/fuzz/fuzz_NAME.c: write the entry point as
#          CK_FUZZ_TARGET(NAME) { ...use data and size...; return 0; }
#      (tests/fuzz/fuzz.h) instead of LLVMFuzzerTestOneInput;
#   2. tests/fuzz/corpus/NAME/: a few small seed inputs (at least one);
#   3. the line:  tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_NAME.c
#   Code outside libcheckup and pam/cfg.c (liboidc, say) also needs:
#          FUZZ_CODE += $(liboidc_la_SOURCES)      compiled in, instrumented (fuzz build)
#          FUZZ_CODE_LIBS += liboidc.la            linked as is (normal build)
#          FUZZ_DEP_CFLAGS += $(CJOSE_CFLAGS)  and  FUZZ_DEP_LIBS += $(CJOSE_LIBS)
#
# Normal build (gcc): ckfuzz is a test; its own main() (driver.c) feeds every
# file of tests/fuzz/corpus/NAME/ to target NAME, for every target.
#   tests/fuzz/ckfuzz NAME FILE...        replays inputs (a crash, say)
# Fuzz build (configure CC=clang --enable-fuzzing): ckfuzz is a libFuzzer
# program with every library source it fuzzes compiled in with coverage,
# ASan and UBSan; the target is chosen by the environment:
#   CK_FUZZ_TARGET=NAME tests/fuzz/ckfuzz [libFuzzer flags] CORPUS_DIR...
# tests/fuzz_smoke.sh runs each target briefly (make check in that build);
# bench/fuzz.sh runs each for minutes and reports crashes.
check_PROGRAMS += tests/fuzz/ckfuzz
tests_fuzz_ckfuzz_SOURCES = tests/fuzz/fuzz.h tests/fuzz/registry.c tests/fuzz/util.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_token.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_config.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_users.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_redis_url.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_redis_reply.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_redis_cluster.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_pam_args.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_audit.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_keyring.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_store_records.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_callback.c
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/fuzz_sasl_oauthbearer.c

# What the targets exercise, and what that code links with.
FUZZ_CODE = $(libcheckup_la_SOURCES) pam/cfg.h pam/cfg.c
FUZZ_CODE_LIBS = libcheckup.la libpamcheckup.la
FUZZ_DEP_CFLAGS = $(OPENSSL_CFLAGS) $(LMDB_CFLAGS) $(HIREDIS_CFLAGS) $(INIH_CFLAGS) \
	$(JANSSON_CFLAGS) $(CRYPT_CFLAGS)
FUZZ_DEP_LIBS = $(libcheckup_la_LIBADD)

tests_fuzz_ckfuzz_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(FUZZ_DEP_CFLAGS) -I$(top_srcdir)/pam
# The SASL plugin's message parser (no libsasl2 needed).
FUZZ_CODE += $(libcksaslparse_la_SOURCES)
FUZZ_CODE_LIBS += libcksaslparse.la
tests_fuzz_ckfuzz_CFLAGS += -I$(top_srcdir)/sasl
if FUZZING
tests_fuzz_ckfuzz_SOURCES += $(FUZZ_CODE)
tests_fuzz_ckfuzz_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_ckfuzz_LDADD = $(FUZZ_DEP_LIBS) -lpthread
TESTS += tests/fuzz_smoke.sh
else
tests_fuzz_ckfuzz_SOURCES += tests/fuzz/driver.c
tests_fuzz_ckfuzz_LDADD = $(FUZZ_CODE_LIBS) $(FUZZ_DEP_LIBS) -lpthread
TESTS += tests/fuzz/ckfuzz
endif

# No token, password or key in the logs of a representative workload.
TESTS += tests/secrets_scan.sh

EXTRA_DIST += tests/fuzz_smoke.sh tests/fuzz/corpus bench/fuzz.sh tests/secrets_scan.sh
