#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Bad-input tests of the store against a Redis Cluster on loopback.
. "$top_srcdir/tests/contract_common.sh"
contract_cluster test_store_input
