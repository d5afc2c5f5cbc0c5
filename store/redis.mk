# The Redis store backend: session scripts and the backend operations.
libcheckup_la_SOURCES += store/store_redis.c store/redis_scripts.c store/redis_scripts.h
