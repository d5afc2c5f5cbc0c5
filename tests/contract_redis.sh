#!/bin/sh
# The store contract suite against a real redis-server on loopback.
. "$top_srcdir/tests/contract_common.sh"
contract_redis test_store_contract
