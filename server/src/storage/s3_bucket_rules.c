#include "storage/s3_bucket_rules.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "storage/sigv4.h"
#include "util/crypto.h"

int s3_cors_xml(const char *origins_csv, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "<CORSConfiguration><CORSRule>");
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", origins_csv);
    char *save = NULL;
    for (char *o = strtok_r(copy, ", ", &save); o && used < size; o = strtok_r(NULL, ", ", &save))
        used += (size_t)snprintf(out + used, size - used, "<AllowedOrigin>%s</AllowedOrigin>", o);
    if (used < size)
        used += (size_t)snprintf(out + used, size - used,
                                 "<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>"
                                 "<AllowedMethod>HEAD</AllowedMethod><AllowedHeader>content-type</AllowedHeader>"
                                 "<AllowedHeader>x-amz-checksum-sha256</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
                                 "<MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>");
    return used < size ? 0 : -1;
}

int s3_lifecycle_xml(int raw_days, char *out, size_t size)
{
    int n = snprintf(out, size,
                     "<LifecycleConfiguration><Rule><ID>zencast-raw-chunks</ID><Filter><Prefix>recordings/</Prefix>"
                     "</Filter><Status>Enabled</Status><Expiration><Days>%d</Days></Expiration>"
                     "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation>"
                     "</AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>",
                     raw_days < 1 ? 1 : raw_days);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* S3 insists on Content-MD5 for bucket configuration bodies. */
static void content_md5(const char *body, char out[32])
{
    unsigned char md5[16];
    unsigned int len = 0;
    EVP_Digest(body, strlen(body), md5, &len, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md5, (int)len);
}

static void bucket_url(const storage_s3_options *o, const char *subresource, char *out, size_t size)
{
    if (o->endpoint && o->endpoint[0])
        snprintf(out, size, "%s/%s?%s=", o->endpoint, o->bucket, subresource);
    else
        snprintf(out, size, "https://%s.s3.%s.amazonaws.com/?%s=", o->bucket, o->region, subresource);
}

static int put_config(const storage_s3_options *o, const char *subresource, const char *body, char *err,
                      size_t err_size)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(err, err_size, "%s: cannot start libcurl", subresource);
        return -1;
    }
    char url[1024], sigv4[128], userpwd[600], md5[32], md5_header[64], sha[65], sha_header[100], token[2100];
    bucket_url(o, subresource, url, sizeof url);
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", o->region);
    snprintf(userpwd, sizeof userpwd, "%s:%s", o->access_key_id, o->secret_access_key);
    content_md5(body, md5);
    snprintf(md5_header, sizeof md5_header, "Content-MD5: %s", md5);
    crypto_sha256_hex(body, strlen(body), sha);
    /* curl 7.88 does not add the payload hash S3 requires; it signs it once we do. */
    snprintf(sha_header, sizeof sha_header, "x-amz-content-sha256: %s", sha);
    struct curl_slist *headers = curl_slist_append(NULL, md5_header);
    headers = curl_slist_append(headers, sha_header);
    headers = curl_slist_append(headers, "Content-Type: application/xml");
    if (o->session_token && o->session_token[0]) {
        snprintf(token, sizeof token, "x-amz-security-token: %s", o->session_token);
        headers = curl_slist_append(headers, token);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    explicit_bzero(userpwd, sizeof userpwd);
    if (rc != CURLE_OK || status < 200 || status >= 300) {
        snprintf(err, err_size, "PUT bucket %s: %s (HTTP %ld)", subresource,
                 rc != CURLE_OK ? curl_easy_strerror(rc) : "refused", status);
        return -1;
    }
    return 0;
}

int s3_apply_bucket_rules(const storage_s3_options *opts, const char *origins_csv, int raw_days, char *err,
                          size_t err_size)
{
    char cors[4096], lifecycle[1024];
    if (s3_cors_xml(origins_csv, cors, sizeof cors) < 0 || s3_lifecycle_xml(raw_days, lifecycle, sizeof lifecycle) < 0) {
        snprintf(err, err_size, "ALLOWED_ORIGINS: too many origins for one CORS rule");
        return -1;
    }
    if (put_config(opts, "cors", cors, err, err_size) < 0)
        return -1;
    return put_config(opts, "lifecycle", lifecycle, err, err_size);
}
