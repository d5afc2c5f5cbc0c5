# Our own Redis connection (plain TCP or OpenSSL TLS, Sentinel) under hiredis'
# RESP formatter and parser.
libcheckup_la_SOURCES += store/redis_conn.h store/redis_conn_int.h store/forkcheck.h \
	store/redis_conn.c store/redis_conn_tls.c store/redis_conn_sentinel.c
