#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Concurrency tests of the store against an LMDB store in a temp dir.
. "$top_srcdir/tests/contract_common.sh"
contract_lmdb test_store_race
