/* PLACEHOLDER so the tree links while the Redis back end is being written: replace this whole file. */
#include <stdio.h>

#include "rooms/rooms.h"

rooms *rooms_redis_new(uv_loop_t *loop, const char *url, const char *instance_id, char *err, size_t err_size)
{
    (void)loop, (void)url, (void)instance_id;
    snprintf(err, err_size, "REDIS_URL: the Redis back end is not built in");
    return NULL;
}
