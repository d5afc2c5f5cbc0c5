/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_ops.c - "checkup metrics", "config check" and "sweep".
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ck_metrics.h"
#include "ck_token.h"
#include "ck_users.h"
#include "cli.h"
#include "ck_cluster.h"
#include "ck_hashslot.h"

/* ---- metrics ------------------------------------------------------------- */

int cli_metrics(const ck_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "prometheus", no_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    ck_figures f;
    ck_store *st;
    ck_status sr;
    char *out;
    int format = 0, opt, warned = 0;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'j' && opt != 'p')
            return cli_usage("unknown option '%s'", argv[optind - 1]);
        if (format && format != opt)
            return cli_usage("--json and --prometheus exclude each other");
        format = opt;
    }
    if (optind != argc)
        return cli_usage("takes no arguments");
    st = cli_store_open(cfg);
    if (!st)
        return CLI_FAIL;
    sr = ck_figures_collect(st, cfg, &f);
    if (sr == CK_OK && ck_figures_alert_log(st, &f, &warned) != CK_OK)
        cli_fail("alerts: %s", ck_store_errstr(st));
    ck_store_close(st);
    out = format == 'j' ? ck_figures_json(&f)
        : format == 'p' ? ck_figures_prometheus(&f) : ck_figures_text(&f);
    if (!out)
        return cli_fail("out of memory");
    fputs(out, stdout);
    if (format == 'j')
        fputc('\n', stdout);
    free(out);
    if (sr != CK_OK)
        return cli_fail("store: %s", f.error);
    return CLI_OK;
}

/* ---- config check -------------------------------------------------------- */

int cli_check_line(int ok, const char *what, const char *detail)
{
    printf("%-8s %s%s%s\n", ok ? "ok" : "FAIL", what, detail && *detail ? ": " : "",
           detail ? detail : "");
    return ok ? 0 : 1;
}

static int check_users(const ck_config *cfg)
{
    ck_users users = { 0 };
    char err[768], detail[800];
    const char *path = cli_users_path(cfg);

    if (access(path, F_OK) != 0) {
        printf("%-8s users file %s is absent (no password logins)\n", "note", path);
        return 0;
    }
    if (ck_users_load(path, 1, &users, err, sizeof(err)) != 0)
        return cli_check_line(0, "users file", err);
    snprintf(detail, sizeof(detail), "%s, %zu user%s", path, users.count,
             users.count == 1 ? "" : "s");
    ck_users_free(&users);
    return cli_check_line(1, "users file", detail);
}

static int check_keys(const ck_config *cfg)
{
    ck_keyring *ring = NULL;
    char err[512], detail[700];
    const char *path = cli_keys_path(cfg);

    if (access(path, F_OK) != 0) {
        printf("%-8s token key ring %s is absent (no token logins; 'checkup keys generate' "
               "makes one)\n", "note", path);
        return 0;
    }
    if (ck_keyring_load(path, 1, &ring, err, sizeof(err)) != 0)
        return cli_check_line(0, "token key ring", err);
    snprintf(detail, sizeof(detail), "%s, %zu key%s, signing with %s", path,
             ck_keyring_count(ring), ck_keyring_count(ring) == 1 ? "" : "s",
             ck_keyring_signing_kid(ring));
    ck_keyring_free(ring);
    return cli_check_line(1, "token key ring", detail);
}

static int check_store(const ck_config *cfg)
{
    const char *url = cfg->store_url ? cfg->store_url : CK_DEFAULT_STORE_URL;
    char err[512], detail[700];
    struct timespec a, b;
    ck_store *st = ck_store_open(cfg, err, sizeof(err));
    ck_status sr;

    if (!st)
        return cli_check_line(0, "store", err);
    clock_gettime(CLOCK_MONOTONIC, &a);
    sr = ck_store_ping(st);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (sr != CK_OK)
        snprintf(detail, sizeof(detail), "%s (%s): %s: %s", ck_store_backend(st),
                 url[0] == 'l' ? url : "redis", ck_status_str(sr), ck_store_errstr(st));
    else
        snprintf(detail, sizeof(detail), "%s answered in %.3f ms", ck_store_backend(st),
                 (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
    ck_store_close(st);
    return cli_check_line(sr == CK_OK, "store", detail);
}

/* The host's password-check slots ([passwords]): usable, and how many. */
static int check_hash_slots(const ck_config *cfg)
{
    const char *path = ck_hash_slot_file(cfg);
    int slots = ck_hash_slot_count(cfg);
    char err[512] = "", detail[700];
    int fd;

    if (slots == 0) {
        printf("%-8s password checks: no host-wide limit (hash_slots = 0)\n", "note");
        return 0;
    }
    fd = ck_hash_slot_take(path, slots, 0, err, sizeof(err));
    if (fd == CK_HASH_SLOT_UNUSABLE)
        return cli_check_line(0, "password-check slots", err);
    if (fd == CK_HASH_SLOT_NONE) {
        printf("%-8s password-check slots %s cannot be opened by this user: its logins run "
               "without one\n", "note", path);
        return 0;
    }
    ck_hash_slot_give(fd);
    snprintf(detail, sizeof(detail), "%s, %d at once%s, a login waits up to %d s", path, slots,
             fd == CK_HASH_SLOT_BUSY ? " (all busy now)" : "", cfg->hash_wait);
    return cli_check_line(1, "password-check slots", detail);
}

/*
 * A Redis Cluster's shape: a map read anew, every node PINGed. Slots
 * without a primary or nodes that do not answer are problems: a part of
 * the sessions (or of the failover's replicas) is missing.
 */
static int check_cluster(const ck_config *cfg)
{
    ck_cluster_shape s;
    char err[512], detail[900];
    int rc = ck_cluster_shape_read(cfg, &s, err, sizeof(err)), ok;

    if (rc == 0)
        return 0;
    if (rc < 0)
        return cli_check_line(0, "redis cluster", err);
    ok = s.slots_covered == CK_CLUSTER_SLOTS && s.unreachable == 0 && s.primaries > 0;
    snprintf(detail, sizeof(detail), "%zu primar%s, %zu replica%s, %zu of %d slots covered, "
             "%zu node%s unreachable%s%s%s", s.primaries, s.primaries == 1 ? "y" : "ies",
             s.replicas, s.replicas == 1 ? "" : "s", s.slots_covered, CK_CLUSTER_SLOTS,
             s.unreachable, s.unreachable == 1 ? "" : "s", s.unreachable ? " (" : "",
             s.unreachable ? s.unreachable_nodes : "", s.unreachable ? ")" : "");
    return cli_check_line(ok, "redis cluster", detail);
}

int cli_config_check(const ck_config *cfg, int argc, char **argv)
{
    char err[512];
    int bad = 0;

    if (argc != 1)
        return cli_usage("takes no arguments");
    /* Loading already parsed the file: reaching here means it parsed. */
    bad += cli_check_line(1, "configuration", cfg->path ? cfg->path : "no file, defaults and environment");
    err[0] = '\0';
    bad += cli_check_line(ck_config_validate(cfg, err, sizeof(err)) == 0, "validation", err);
    bad += check_users(cfg);
    bad += check_hash_slots(cfg);
    bad += check_keys(cfg);
    bad += check_store(cfg);
    bad += check_cluster(cfg);
    bad += cli_check_providers(cfg);
    printf("%s\n", bad ? "configuration has problems" : "configuration is usable");
    return bad ? CLI_FAIL : CLI_OK;
}

/* ---- sweep --------------------------------------------------------------- */

int cli_sweep(const ck_config *cfg, int argc, char **argv)
{
    ck_store *st;
    ck_status sr;
    size_t removed = 0;

    if (argc != 1)
        return cli_usage("takes no arguments");
    st = cli_store_open(cfg);
    if (!st)
        return CLI_FAIL;
    sr = ck_store_sweep(st, &removed);
    if (sr != CK_OK) {
        int rc = cli_store_error(st, sr, "sweep");

        ck_store_close(st);
        return rc;
    }
    printf("%s store: removed %zu expired entr%s\n", ck_store_backend(st), removed,
           removed == 1 ? "y" : "ies");
    ck_store_close(st);
    return CLI_OK;
}
