/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ck_hashslot.h - a host-wide limit on password hashes running at once.
 *
 * A yescrypt check takes about 13 ms of a processor and 16 MiB of memory.
 * sshd, login and sudo fork a process per login, so a password spray or a
 * morning rush runs as many hashes at once as there are connections, and
 * every token check and keep-alive on the host waits behind them. The PAM
 * module and the CLI therefore take one of a few slots of a lock file
 * before they hash ([passwords] in checkup.conf(5)): by default one per
 * processor but one, so a processor is left for everything else. Slots
 * are open-file-description locks on single bytes of the file, so a
 * process that dies holding one gives it back, and threads of one process
 * do not share one.
 */
#ifndef CK_HASHSLOT_H
#define CK_HASHSLOT_H

#include <stddef.h>

#include "ck_config.h"

#define CK_DEFAULT_HASH_SLOT_FILE "/run/checkup-hash-slots"

/* The processors this process may run on (affinity, cpusets), at least 1. */
int ck_processors(void);

/* What [passwords] hash_slots = -1 means here: ck_processors() - 1, at least 1. */
int ck_hash_slots_auto(void);

/* [passwords] as configured: the lock file, and the slots with -1 resolved. */
const char *ck_hash_slot_file(const ck_config *cfg);
int ck_hash_slot_count(const ck_config *cfg);

/*
 * Takes one of slots slots of the lock file at path (made mode 0600 when
 * missing), waiting up to wait_ms for one to come free. Returns the
 * descriptor that holds it (give it back with ck_hash_slot_give), or one
 * of the values below, with a message in err for the last two.
 */
#define CK_HASH_SLOT_NONE     (-1)  /* no limit applies: slots 0, or a caller that may not
                                       open the file (it can only slow its own logins) */
#define CK_HASH_SLOT_BUSY     (-2)  /* every slot stayed busy for wait_ms */
#define CK_HASH_SLOT_UNUSABLE (-3)  /* the file is unsafe (another user could hold every
                                       slot), or cannot be opened or locked */
int ck_hash_slot_take(const char *path, int slots, int wait_ms, char *err, size_t errlen);

void ck_hash_slot_give(int fd);

#endif
