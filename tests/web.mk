# checkupd tests: the daemon on each store driven by curl, two daemons on
# one Redis, nginx auth_request in front of a dummy page, and Chromium.
TESTS += tests/web_lmdb.sh tests/web_redis.sh tests/web_peers.sh tests/web_nginx.sh
EXTRA_DIST += tests/web_lmdb.sh tests/web_redis.sh tests/web_peers.sh tests/web_nginx.sh \
	tests/web_nginx.conf.in tests/lib/nginx.sh tests/web_common.sh tests/web_suite.sh
check_SCRIPTS += checkupd$(EXEEXT)
