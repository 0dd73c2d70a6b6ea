/*
 * assets.h - files embedded in the binary at build time (scripts/embed-assets): store
 * migrations, the dashboard, the OpenAPI document. Names are relative to src/.
 */
#ifndef SW_ASSETS_H
#define SW_ASSETS_H

#include <stddef.h>

struct sw_asset {
	const char *name;
	const unsigned char *data; /* NUL-terminated for convenience; size excludes it */
	size_t size;
};

/* Terminated by an entry with name == NULL; sorted by name. */
extern const struct sw_asset sw_assets[];

/* The asset called name, or NULL. */
const struct sw_asset *asset_find(const char *name);

#endif
