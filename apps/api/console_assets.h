/*
 * The web console's files (apps/api/www), compiled into bitsd by
 * apps/api/embed.sh: plain HTML, CSS and modern JS with no framework
 * and no build step beyond embedding, talking only to the router's own
 * API on the same origin (apps/api).
 */
#ifndef APPS_API_CONSOLE_ASSETS_H
#define APPS_API_CONSOLE_ASSETS_H

#include "apps/api/api.h"

#include <stddef.h>

extern const struct api_asset console_assets[];
extern const size_t console_n_assets;

#endif /* APPS_API_CONSOLE_ASSETS_H */
