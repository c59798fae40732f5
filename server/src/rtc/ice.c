/* The ICE servers a browser gets when it joins: STUN as configured, and TURN with
 * short-lived credentials in the TURN REST API scheme that coturn's use-auth-secret
 * checks: username "<expiry>:<participantId>", password base64(HMAC-SHA1(secret, username)).
 * No static TURN password ever reaches a browser. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "rtc/rtc_internal.h"

/* "a, b,c" -> ["a","b","c"] */
static json_t *url_list(const char *csv)
{
    json_t *list = json_array();
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", csv);
    char *save = NULL;
    for (char *url = strtok_r(copy, ", ", &save); url; url = strtok_r(NULL, ", ", &save))
        json_array_append_new(list, json_string(url));
    return list;
}

static json_t *turn_server(const config *cfg, const char *participant_id, int64_t now_s)
{
    char username[96], credential[64];
    snprintf(username, sizeof username, "%lld:%s", (long long)(now_s + cfg->turn_ttl_s), participant_id);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha1(), cfg->turn_secret, (int)strlen(cfg->turn_secret), (const unsigned char *)username,
         strlen(username), mac, &mac_len);
    EVP_EncodeBlock((unsigned char *)credential, mac, (int)mac_len);
    return json_pack("{s:o, s:s, s:s}", "urls", url_list(cfg->turn_urls), "username", username, "credential",
                     credential);
}

json_t *rtc_ice_servers(const config *cfg, const char *participant_id, int64_t now_s)
{
    json_t *servers = json_array();
    if (cfg->stun_urls[0])
        json_array_append_new(servers, json_pack("{s:o}", "urls", url_list(cfg->stun_urls)));
    if (cfg->turn_urls[0])
        json_array_append_new(servers, turn_server(cfg, participant_id, now_s));
    return servers;
}
