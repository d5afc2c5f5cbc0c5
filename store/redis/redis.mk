# SPDX-License-Identifier: BSD-3-Clause
# The Redis store backend: our own connection (plain TCP or OpenSSL TLS,
# Sentinel) under hiredis' RESP formatter and parser, the session scripts,
# and the backend operations.
libcheckup_la_SOURCES += store/redis/redis_conn.h store/redis/redis_conn_int.h \
	store/redis/redis_conn.c store/redis/redis_conn_tls.c \
	store/redis/redis_conn_sentinel.c \
	store/redis/redis_scripts.h store/redis/redis_scripts.c \
	store/redis/redis_backend.c store/redis/redis_internal.h \
	store/redis/redis_copy.c store/redis/redis_slot.h store/redis/redis_slot.c \
	store/redis/redis_cluster.h store/redis/redis_cluster.c store/ck_cluster.h
# How session tags are spelled in keys (the evenly spread Cluster slots).
libcheckup_la_SOURCES += store/redis/redis_tags.h store/redis/redis_tags.c
