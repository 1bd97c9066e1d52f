/*
 * The netDb's I2NP side (netdb/netdb.h): DatabaseStore, DatabaseLookup,
 * DatabaseSearchReply and DeliveryStatus as a client and as a floodfill.
 */
#include "config.h"
#include "netdb/netdb_internal.h"
#include "crypto/base/alloc.h"

#include <stdlib.h>

struct netdb_net {
	int unused;
};

void netdb_net_init(struct netdb *db)
{
	db->net = xzalloc(sizeof(*db->net));
}

void netdb_net_free(struct netdb *db)
{
	free(db->net);
	db->net = NULL;
}

void netdb_set_sender(struct netdb *db, struct netdb_sender s)
{
	db->sender = s;
}
