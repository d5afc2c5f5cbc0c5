/* jose_jwks.c - provider key sets. (stub) */
#include <config.h>
#include "ck_jose.h"
