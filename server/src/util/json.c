#include "util/json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *json_parse_object(const char *body, size_t len)
{
    if (!body || len == 0)
        return NULL;
    json_error_t error;
    /* JSON_REJECT_DUPLICATES: {"email":"a","email":"b"} must not be read two ways.
     * JSON_ALLOW_NUL: "\u0000" is valid JSON; the field checks refuse it by name. */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);
    if (root && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static bool fail(json_field_error *err, const char *field, const char *message)
{
    if (err) {
        snprintf(err->field, sizeof err->field, "%s", field);
        snprintf(err->message, sizeof err->message, "%s: %s", field, message);
    }
    return false;
}

static bool has_control_chars(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

bool json_get_string_field(json_t *obj, const char *name, bool required, size_t min_len,
                           size_t max_len, char *out, size_t out_size, json_field_error *err)
{
    out[0] = '\0';
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return required ? fail(err, name, "is required") : true;
    if (!json_is_string(v))
        return fail(err, name, "must be a string");
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    /* An embedded NUL ("\u0000") would silently cut the string short. */
    if (strlen(s) != len || has_control_chars(s, len))
        return fail(err, name, "must not contain control characters");
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    char message[96];
    if (len < min_len) {
        snprintf(message, sizeof message, min_len == 1 ? "must not be empty" : "must be at least %zu bytes", min_len);
        return fail(err, name, message);
    }
    if (len > max_len || len >= out_size) {
        snprintf(message, sizeof message, "must be at most %zu bytes", max_len);
        return fail(err, name, message);
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

bool json_get_int_field(json_t *obj, const char *name, bool required, long long min,
                        long long max, long long *out, json_field_error *err)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return required ? fail(err, name, "is required") : true;
    if (!json_is_integer(v))
        return fail(err, name, "must be a whole number");
    long long n = json_integer_value(v);
    if (n < min || n > max) {
        char message[96];
        snprintf(message, sizeof message, "must be from %lld to %lld", min, max);
        return fail(err, name, message);
    }
    *out = n;
    return true;
}

char *json_to_text(const json_t *v, size_t *len)
{
    char *text = json_dumps(v, JSON_COMPACT);
    if (text && len)
        *len = strlen(text);
    return text;
}
