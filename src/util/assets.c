/*
 * assets.c - lookup in the embedded asset table.
 */
#include "util/common.h"
#include "util/assets.h"

const struct sw_asset *asset_find(const char *name)
{
	for (const struct sw_asset *a = sw_assets; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}
