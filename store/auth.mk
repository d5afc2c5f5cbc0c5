# Tokens, the users file, lockout and audit: what the PAM module and the
# CLI build on. Part of libcheckup; no PAM, HTTP or OIDC in here.
libcheckup_la_SOURCES += \
	store/ck_token.h store/token.c \
	store/ck_users.h store/users.c \
	store/ck_lockout.h store/lockout.c \
	store/ck_login.h store/login.c \
	store/ck_audit.h store/audit.c \
	store/secfile.h store/secfile.c
libcheckup_la_CFLAGS += $(JANSSON_CFLAGS) $(CRYPT_CFLAGS)
libcheckup_la_LIBADD += $(JANSSON_LIBS) $(CRYPT_LIBS)
