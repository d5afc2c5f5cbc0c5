#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Pending terminal logins (ck_terminal) on a real redis-server on loopback.
. "$top_srcdir/tests/contract_common.sh"
contract_redis pam_corppass_store
