/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * qr.c - a QR code drawn in text for a terminal (libqrencode).
 *
 * Two module rows share one text row through the Unicode half blocks, one
 * column per module, so a version 3 code (a 40-character link at level L)
 * takes 37 columns and 19 rows with its quiet zone. Like qrencode -t UTF8,
 * light modules are drawn (in the terminal's foreground) and dark ones
 * left blank: on the usual light-on-dark terminal the code then shows
 * dark on light, as scanners expect.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "module.h"

#define QUIET 2     /* modules of light margin; most phone scanners need no more */

static const char *const half[4] = {
    "\xe2\x96\x88",   /* upper light, lower light: full block */
    "\xe2\x96\x80",   /* upper light, lower dark: upper half */
    "\xe2\x96\x84",   /* upper dark, lower light: lower half */
    " ",              /* both dark */
};

/* Dark module at (x, y) of the code with its quiet zone? */
static int dark(const QRcode *qr, int x, int y)
{
    x -= QUIET;
    y -= QUIET;
    if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
        return 0;
    return qr->data[y * qr->width + x] & 1;
}

char *ck_pam_qr_draw(const char *text, int max_cols, int *rows_out)
{
    QRcode *qr;
    char *out = NULL, *p;
    int size, rows;

    *rows_out = 0;
    qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (!qr)
        return NULL;
    size = qr->width + 2 * QUIET;
    rows = (size + 1) / 2;
    if (size > max_cols)
        goto out;
    /* Each cell at most 3 bytes, plus a newline per row and the NUL. */
    out = malloc((size_t)rows * ((size_t)size * 3 + 1) + 1);
    if (!out)
        goto out;
    p = out;
    for (int y = 0; y < size; y += 2) {
        for (int x = 0; x < size; x++) {
            /* Past an odd-sized code's last row, dark() reports light margin. */
            const char *cell = half[dark(qr, x, y) * 2 + dark(qr, x, y + 1)];

            memcpy(p, cell, strlen(cell));
            p += strlen(cell);
        }
        *p++ = '\n';
    }
    *p = '\0';
    *rows_out = rows;
out:
    QRcode_free(qr);
    return out;
}
