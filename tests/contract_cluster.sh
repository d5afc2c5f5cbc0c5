#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The store contract suite against a Redis Cluster (3 primaries, 3 replicas)
# on loopback.
. "$top_srcdir/tests/contract_common.sh"
contract_cluster test_store_contract
