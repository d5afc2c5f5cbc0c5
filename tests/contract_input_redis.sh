#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Bad-input tests of the store against a real redis-server on loopback.
. "$top_srcdir/tests/contract_common.sh"
contract_redis test_store_input
