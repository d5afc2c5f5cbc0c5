# SPDX-License-Identifier: BSD-3-Clause
# The embedded default store backend (LMDB): environment, records, backend.
libcheckup_la_SOURCES += store/lmdb/lmdb_internal.h store/lmdb/lmdb_env.c \
	store/lmdb/lmdb_record.c store/lmdb/lmdb_backend.c store/lmdb/lmdb_copy.c
