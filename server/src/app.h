/* The application context: everything a request handler may need, built once by main. */
#ifndef ZC_APP_H
#define ZC_APP_H

#include <uv.h>

#include "auth/rate_limit.h"
#include "config.h"
#include "http/http_server.h"
#include "rooms/rooms.h"
#include "store/db.h"

typedef struct app {
    const config *cfg;
    uv_loop_t *loop;
    db *db;
    rooms *rooms;
    http_server *http;
    rate_limit *login_by_account;
    rate_limit *login_by_address;
    struct rtc *rtc;
    struct storage *storage;
} app;

#endif
