/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * plugin.c - the two entry points libsasl2 looks up in libcheckup_sasl.so,
 * and nothing else: each hands over the mechanism table of its side.
 * Only these symbols are exported (checkup_sasl.map).
 */
#include "config.h"

#include "cks.h"

int sasl_server_plug_init(const sasl_utils_t *utils, int max_version, int *out_version,
                          sasl_server_plug_t **pluglist, int *plugcount);
int sasl_client_plug_init(const sasl_utils_t *utils, int max_version, int *out_version,
                          sasl_client_plug_t **pluglist, int *plugcount);

int sasl_server_plug_init(const sasl_utils_t *utils, int max_version, int *out_version,
                          sasl_server_plug_t **pluglist, int *plugcount)
{
    if (max_version < SASL_SERVER_PLUG_VERSION) {
        utils->seterror(utils->conn, 0, "checkup OAUTHBEARER: server plugin version %d "
                        "is too old", max_version);
        return SASL_BADVERS;
    }
    /* The configuration is read at the first exchange, from the service's options. */
    *out_version = SASL_SERVER_PLUG_VERSION;
    *plugcount = cks_server_plug(pluglist);
    return SASL_OK;
}

int sasl_client_plug_init(const sasl_utils_t *utils, int max_version, int *out_version,
                          sasl_client_plug_t **pluglist, int *plugcount)
{
    if (max_version < SASL_CLIENT_PLUG_VERSION) {
        utils->seterror(utils->conn, 0, "checkup OAUTHBEARER: client plugin version %d "
                        "is too old", max_version);
        return SASL_BADVERS;
    }
    *out_version = SASL_CLIENT_PLUG_VERSION;
    *plugcount = cks_client_plug(pluglist);
    return SASL_OK;
}
