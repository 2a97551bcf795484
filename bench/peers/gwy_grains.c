/*
 * gwy_grains: drive Gwyddion's grain marking (libgwyprocess, Debian libgwyddion20-dev) on one image.
 *
 * Part of morpho's accuracy benchmark (bench/peers/gwyddion.py compiles and runs it); it calls
 * Gwyddion's own library functions with the defaults of Gwyddion's GUI, nothing else.
 *
 *   gwy_grains MODE ROWS COLS IN.f64 OUT.i32
 *
 * IN.f64   ROWS x COLS little-endian float64, row-major; larger = grain (bright grains).
 * OUT.i32  ROWS x COLS little-endian int32 grain numbers, 0 = not grain.
 * MODE     "threshold": Grains > Mark by Threshold with the GUI defaults of Gwyddion 2.62
 *                       (height criterion only, 50 % of the data range, not inverted):
 *                       gwy_data_field_grains_mark_height(field, mask, 50.0, FALSE).
 *          "threshold-careful": careful-user variant, NOT the GUI default: the field is first
 *                       smoothed with gwy_data_field_filter_gaussian(field, 1.5) (sigma in px),
 *                       then marked as "threshold", then grains < 9 px are removed with
 *                       gwy_data_field_grains_remove_by_size(mask, 9).
 *          "watershed": the threshold mask above, then Grains > Mark by Watershed with the GUI
 *                       defaults (locate: 10 steps, 10 px threshold, drop 0.1; watershed: 20 steps,
 *                       drop 0.1; drop sizes in units of (max - min) / 50, no prefilter, not
 *                       inverted) combined with the existing mask by intersection, the GUI's
 *                       "combine with existing mask" option for splitting thresholded grains.
 * Grains are then numbered with gwy_data_field_number_grains().
 * Exit status: 0 ok, 2 usage or I/O error.  Prints "ngrains N" on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgwyddion/gwyddion.h>
#include <libprocess/gwyprocess.h>
#include <libprocess/datafield.h>
#include <libprocess/grains.h>
#include <libprocess/stats.h>
#include <libprocess/arithmetic.h>
#include <libprocess/filters.h>

/* "careful user" variant (not the GUI default): Gaussian filter of sigma 1.5 px before marking,
 * then grains smaller than 9 px removed. */
#define CAREFUL_SIGMA 1.5
#define CAREFUL_MIN_PX 9

static int
read_all(const char *path, void *buf, size_t nbytes)
{
    FILE *fh = fopen(path, "rb");
    size_t got;

    if (!fh)
        return -1;
    got = fread(buf, 1, nbytes, fh);
    fclose(fh);
    return got == nbytes ? 0 : -1;
}

static int
write_all(const char *path, const void *buf, size_t nbytes)
{
    FILE *fh = fopen(path, "wb");
    size_t put;

    if (!fh)
        return -1;
    put = fwrite(buf, 1, nbytes, fh);
    return (fclose(fh) == 0 && put == nbytes) ? 0 : -1;
}

static void
mark_watershed_gui_defaults(GwyDataField *field, GwyDataField *mask)
{
    /* Values of Gwyddion 2.62 modules/grains/grain_wshed.c (GUI defaults). */
    const gint locate_steps = 10, locate_thresh = 10, wshed_steps = 20;
    const gdouble locate_dropsize = 0.1, wshed_dropsize = 0.1;
    gdouble min, max, q;
    GwyDataField *wmask = gwy_data_field_new_alike(field, TRUE);
    GwyComputationState *state;

    gwy_data_field_get_min_max(field, &min, &max);
    q = (max - min)/5000.0*100.0;
    state = gwy_data_field_grains_watershed_init(field, wmask,
                                                 locate_steps, locate_thresh, locate_dropsize*q,
                                                 wshed_steps, wshed_dropsize*q,
                                                 FALSE, FALSE);
    do {
        gwy_data_field_grains_watershed_iteration(state);
    } while (state->state != GWY_WATERSHED_STATE_FINISHED);
    gwy_data_field_grains_watershed_finalize(state);
    gwy_data_field_grains_intersect(mask, wmask);
    gwy_data_field_threshold(mask, 0.5, 0.0, 1.0);
    g_object_unref(wmask);
}

int
main(int argc, char *argv[])
{
    gint rows, cols, ngrains, i, n;
    gboolean watershed, careful;
    GwyDataField *field, *mask;
    gint *grains;
    gint32 *out;

    if (argc != 6 || (strcmp(argv[1], "threshold") && strcmp(argv[1], "watershed")
                      && strcmp(argv[1], "threshold-careful"))) {
        fprintf(stderr, "usage: %s threshold|watershed|threshold-careful ROWS COLS IN.f64 OUT.i32\n", argv[0]);
        return 2;
    }
    watershed = !strcmp(argv[1], "watershed");
    careful = !strcmp(argv[1], "threshold-careful");
    rows = atoi(argv[2]);
    cols = atoi(argv[3]);
    if (rows < 1 || cols < 1) {
        fprintf(stderr, "bad shape %s x %s\n", argv[2], argv[3]);
        return 2;
    }
    n = rows*cols;

    gwy_type_init();
    gwy_process_type_init();

    /* xres = columns, yres = rows; data are stored row by row, as NumPy's C order. */
    field = gwy_data_field_new(cols, rows, cols, rows, FALSE);
    if (read_all(argv[4], gwy_data_field_get_data(field), sizeof(gdouble)*n)) {
        fprintf(stderr, "cannot read %d float64 values from %s\n", n, argv[4]);
        return 2;
    }
    gwy_data_field_invalidate(field);

    if (careful)
        gwy_data_field_filter_gaussian(field, CAREFUL_SIGMA);
    mask = gwy_data_field_new_alike(field, TRUE);
    gwy_data_field_grains_mark_height(field, mask, 50.0, FALSE);
    if (careful)
        gwy_data_field_grains_remove_by_size(mask, CAREFUL_MIN_PX);
    if (watershed)
        mark_watershed_gui_defaults(field, mask);

    grains = g_new0(gint, n);
    ngrains = gwy_data_field_number_grains(mask, grains);
    out = g_new(gint32, n);
    for (i = 0; i < n; i++)
        out[i] = grains[i];
    if (write_all(argv[5], out, sizeof(gint32)*n)) {
        fprintf(stderr, "cannot write %s\n", argv[5]);
        return 2;
    }
    printf("ngrains %d\n", ngrains);

    g_free(out);
    g_free(grains);
    g_object_unref(mask);
    g_object_unref(field);
    return 0;
}
