# The embedded default store backend (LMDB).
libcheckup_la_SOURCES += store/lmdb_internal.h store/lmdb_env.c store/lmdb_record.c \
	store/store_lmdb.c
