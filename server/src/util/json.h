/* Helpers for reading request bodies with jansson and checking their fields. */
#ifndef ZC_JSON_H
#define ZC_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Why a field was refused; the message names the field, e.g. "email: must be a string". */
typedef struct {
    char field[64];
    char message[192];
} json_field_error;

/* Parses body as a JSON object (depth- and size-limited by the caller's body limit).
 * Returns NULL when it is not valid JSON or not an object. */
json_t *json_parse_object(const char *body, size_t len);

/* Reads obj[name] as a string of min_len..max_len bytes after trimming surrounding
 * white space; control characters refused. On success copies into out (out_size must
 * be > max_len) and returns true. When required is false and the field is absent,
 * out is "" and true is returned. */
bool json_get_string_field(json_t *obj, const char *name, bool required, size_t min_len,
                           size_t max_len, char *out, size_t out_size, json_field_error *err);

/* Reads obj[name] as an integer in [min, max]. */
bool json_get_int_field(json_t *obj, const char *name, bool required, long long min,
                        long long max, long long *out, json_field_error *err);

/* Serialises v compactly; returns malloc'd text or NULL. Does not steal v. */
char *json_to_text(const json_t *v, size_t *len);

#endif
