#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The store contract suite against a TLS-only Redis Cluster (tls-cluster,
# tls-replication, certificates made now) as the ACL user "checkup", which
# holds only the commands checkup sends.
. "$top_srcdir/tests/contract_common.sh"
contract_cluster test_store_contract tls
