#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Metrics, alerts and anomaly detection on a redis-server of our own.
. "$top_srcdir/tests/contract_common.sh"
contract_redis cli_units
