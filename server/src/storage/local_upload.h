/* Uploads to and downloads from the local folder through this server (signed URLs). */
#ifndef ZC_LOCAL_UPLOAD_H
#define ZC_LOCAL_UPLOAD_H

#include "http/http_server.h"

const http_stream_handler *local_upload_handler(void);

#endif
