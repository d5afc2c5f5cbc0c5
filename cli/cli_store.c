/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_store.c - "checkup store copy": moving live sessions, user indexes,
 * lockout state and metrics counters from one store to another (embedded
 * to Redis, Redis to Redis, and back) without logging anyone out, and
 * comparing the two sides (--verify). The work is in store/copy.c.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ck_copy.h"
#include "cli.h"

static void progress(const ck_copy_stats *s, int final, void *arg)
{
    (void)arg;
    fprintf(stderr,
            "checkup: store copy: %zu sessions: %zu copied, %zu already there, %zu updated, "
            "%zu skipped (ended)%s\n",
            s->sessions, s->copied, s->present, s->updated, s->expired,
            final ? "" : " ...");
    if (final)
        fprintf(stderr, "checkup: store copy: %zu failure counters and %zu locks written; done\n",
                s->counters, s->locks);
}

static void on_diff(const char *what, const char *name, const char *detail, void *arg)
{
    (void)arg;
    printf("%-8s %s: %s\n", what, name, detail);
}

/*
 * Opening an embedded store creates it: a source (or a target to verify)
 * that is not there is a mistyped path, not an empty store.
 */
static int lmdb_missing(const char *url)
{
    char path[4096];
    struct stat sb;

    if (strncmp(url, "lmdb:", 5) != 0)
        return 0;
    snprintf(path, sizeof(path), "%s/data.mdb", url + 5);
    return stat(path, &sb) != 0;
}

/* Opens the store at url with the rest of the configuration as it is. */
static ck_store *open_side(const ck_config *cfg, const char *url, const char *side,
                           int must_exist)
{
    ck_config c = *cfg;
    char err[512], shown[1024];
    ck_store *st;

    ck_store_url_shown(url, shown, sizeof(shown));
    if (must_exist && lmdb_missing(url)) {
        cli_fail("%s store %s: no store there (no data.mdb)", side, shown);
        return NULL;
    }
    c.store_url = (char *)url;
    st = ck_store_open(&c, err, sizeof(err));
    if (!st)
        cli_fail("%s store %s: %s", side, shown, err);
    return st;
}

/* Both stores open and answering, or a clear reason and NULLs. */
static int open_both(const ck_config *cfg, const char *from, const char *to, int verify,
                     ck_store **a, ck_store **b)
{
    char shown[1024];
    ck_status sr;

    *a = open_side(cfg, from, "source", 1);
    *b = *a ? open_side(cfg, to, "target", verify) : NULL;
    if (!*a || !*b)
        return -1;
    sr = ck_store_ping(*a);
    if (sr != CK_OK) {
        ck_store_url_shown(from, shown, sizeof(shown));
        cli_fail("source store %s: %s: %s", shown, ck_status_str(sr), ck_store_errstr(*a));
        return -1;
    }
    sr = ck_store_ping(*b);
    if (sr != CK_OK) {
        ck_store_url_shown(to, shown, sizeof(shown));
        cli_fail("target store %s: %s: %s", shown, ck_status_str(sr), ck_store_errstr(*b));
        return -1;
    }
    return 0;
}

static int do_verify(ck_store *a, ck_store *b)
{
    char err[768];
    size_t n = 0;
    ck_status sr = ck_store_copy_verify(a, b, on_diff, NULL, &n, err, sizeof(err));

    if (sr != CK_OK)
        return cli_fail("store copy --verify: %s", err);
    if (n)
        return cli_fail("store copy --verify: %zu difference%s", n, n == 1 ? "" : "s");
    fprintf(stderr, "checkup: store copy --verify: no differences\n");
    return CLI_OK;
}

static int do_copy(const ck_config *cfg, ck_store *a, ck_store *b)
{
    char err[768], reason[64];
    ck_copy_stats s;
    ck_status sr = ck_store_copy(a, b, progress, NULL, &s, err, sizeof(err));

    if (sr != CK_OK) {
        snprintf(reason, sizeof(reason), "%s", ck_status_str(sr));
        cli_audit(cfg, "store_copied", NULL, NULL, "failure", reason);
        cli_fail("store copy stopped: %s", err);
        return cli_fail("store copy: not finished (%zu sessions copied, %zu updated so far); "
                        "run the same command again to finish", s.copied, s.updated);
    }
    snprintf(reason, sizeof(reason), "copied=%zu updated=%zu", s.copied, s.updated);
    cli_audit(cfg, "store_copied", NULL, NULL, "success", reason);
    return CLI_OK;
}

int cli_store_copy(const ck_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "verify", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    const char *from = NULL, *to = NULL;
    ck_store *a = NULL, *b = NULL;
    int verify = 0, c, rc = CLI_FAIL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'f')
            from = optarg;
        else if (c == 't')
            to = optarg;
        else if (c == 'v')
            verify = 1;
        else
            return cli_usage("unknown option");
    }
    if (optind != argc)
        return cli_usage("unexpected argument '%s'", argv[optind]);
    if (!from || !to || !*from || !*to)
        return cli_usage("both --from URL and --to URL are needed");
    if (ck_copy_same_store(from, to))
        return cli_usage("--from and --to name the same store");
    if (open_both(cfg, from, to, verify, &a, &b) == 0)
        rc = verify ? do_verify(a, b) : do_copy(cfg, a, b);
    if (a)
        ck_store_close(a);
    if (b)
        ck_store_close(b);
    return rc;
}
