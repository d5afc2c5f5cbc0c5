#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Metrics, alerts and anomaly detection on the embedded store.
. "$top_srcdir/tests/contract_common.sh"
contract_lmdb cli_units
