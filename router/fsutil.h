/*
 * Moved to crypto/base/fsutil.h (content and chain need it too, below
 * router/).  This forwarding header only keeps in-flight work building;
 * include "crypto/base/fsutil.h" and delete this file once nothing uses it.
 */
#ifndef ROUTER_FSUTIL_H
#define ROUTER_FSUTIL_H
#include "crypto/base/fsutil.h"
#endif /* ROUTER_FSUTIL_H */
