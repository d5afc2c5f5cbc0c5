# SPDX-License-Identifier: BSD-3-Clause
# liboidc, protocol half: providers, HTTP (libcurl), discovery and JWKS,
# the authorization code flow and the callback parser.
liboidc_la_SOURCES += \
	oidc/ck_oidc.h oidc/oidc_int.h oidc/provider.c oidc/http.c \
	oidc/discovery.c oidc/callback.c oidc/flow.c oidc/device.c oidc/logout.c
