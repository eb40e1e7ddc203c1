/* The web UI's files (web/), compiled into the library by
 * cmake/embed_web.cmake so the page works with nothing but the process. */
#ifndef IX_UI_ASSETS_H
#define IX_UI_ASSETS_H

#include <stddef.h>

struct ix_ui_asset {
    const char *name; /* file name under web/, e.g. "app.js" */
    const unsigned char *data;
    size_t len;
};

/* Sorted by name; terminated by a {0} entry. */
extern const struct ix_ui_asset ix_ui_assets[];
extern const size_t ix_ui_nassets;

#endif
