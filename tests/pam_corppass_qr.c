/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The QR code of a terminal login's link, drawn in half blocks
 * (pam/qr.c): read back from the text, it is the matrix libqrencode made,
 * inside a light margin, within 80 columns; a text too long for 80
 * columns is not drawn at all.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <qrencode.h>

#include "module.h"

#define FULL  "\xe2\x96\x88"
#define UPPER "\xe2\x96\x80"
#define LOWER "\xe2\x96\x84"

/* Reads one cell: sets the light-ness of its upper and lower module. */
static const char *cell(const char *p, int *upper_light, int *lower_light)
{
    if (*p == ' ') {
        *upper_light = *lower_light = 0;
        return p + 1;
    }
    assert_true(strncmp(p, FULL, 3) == 0 || strncmp(p, UPPER, 3) == 0 ||
                strncmp(p, LOWER, 3) == 0);
    *upper_light = strncmp(p, LOWER, 3) != 0;
    *lower_light = strncmp(p, UPPER, 3) != 0;
    return p + 3;
}

static void check_link(const char *link)
{
    QRcode *qr = QRcode_encodeString(link, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    int rows = 0, size, margin;
    char *text = ck_pam_qr_draw(link, 80, &rows);
    const char *p = text;

    assert_non_null(qr);
    assert_non_null(text);
    size = (int)rows * 2;
    margin = (size - qr->width) / 2;
    assert_true(margin >= 2);
    for (int y = 0; y < size; y += 2) {
        int cols = 0;

        for (; *p && *p != '\n'; cols++) {
            int light[2];

            p = cell(p, &light[0], &light[1]);
            for (int k = 0; k < 2; k++) {
                int my = y + k - margin, mx = cols - margin;
                int dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
                           (qr->data[my * qr->width + mx] & 1);

                assert_int_equal(!light[k], dark);
            }
        }
        assert_true(cols <= 80);
        assert_int_equal(cols, qr->width + 2 * margin);
        assert_int_equal(*p, '\n');
        p++;
    }
    assert_int_equal(*p, '\0');
    free(text);
    QRcode_free(qr);
}

static void test_links_read_back(void **state)
{
    (void)state;
    check_link("https://login.example.org/t/ABCD2345");
    check_link("http://127.0.0.1:8080/t/WXYZ9876");
    check_link("https://a-much-longer-host-name.internal.example.org/checkup/t/QRST6789");
}

static void test_too_wide_not_drawn(void **state)
{
    char big[1200];
    int rows = 7;

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_null(ck_pam_qr_draw(big, 80, &rows));
    assert_int_equal(rows, 0);
    assert_null(ck_pam_qr_draw("https://login.example.org/t/ABCD2345", 20, &rows));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_links_read_back),
        cmocka_unit_test(test_too_wide_not_drawn),
    };

    return cmocka_run_group_tests_name("pam qr", tests, NULL, NULL);
}
