/* idtoken.c (stub) */
#include <config.h>
#include "ck_idtoken.h"
