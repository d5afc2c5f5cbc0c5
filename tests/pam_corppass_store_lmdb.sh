#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Pending terminal logins (ck_terminal) on an LMDB store in a temp dir.
. "$top_srcdir/tests/contract_common.sh"
contract_lmdb pam_corppass_store
