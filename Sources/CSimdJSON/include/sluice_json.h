// A small C interface over simdjson's DOM parser for the executor's hot path: parse one record,
// refuse what PostgreSQL or the record program cannot take, and hand back the values at a fixed
// list of dotted paths. Swift calls this; simdjson itself is C++.
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SLUICE_JSON_MISSING = 0,
    SLUICE_JSON_NULL,
    SLUICE_JSON_FALSE,
    SLUICE_JSON_TRUE,
    SLUICE_JSON_INT64,
    SLUICE_JSON_UINT64,
    SLUICE_JSON_DOUBLE,
    SLUICE_JSON_STRING,
    SLUICE_JSON_OBJECT,
    SLUICE_JSON_ARRAY,
} SluiceJSONKind;

/// One extracted value. `text`/`length`: a string's unescaped UTF-8, or an object's or array's
/// minified JSON. Valid until the next parse.
typedef struct {
    SluiceJSONKind kind;
    const char *text;
    size_t length;
    int64_t integer;
    uint64_t unsignedInteger;
    double number;
} SluiceJSONValue;

typedef struct SluiceJSONParser SluiceJSONParser;

/// `paths`: dotted paths to extract (an empty path is the whole record, minified).
SluiceJSONParser *sluice_json_parser_new(const char *const *paths, size_t count, size_t maxDepth);
void sluice_json_parser_free(SluiceJSONParser *parser);

/// Bytes after the document that must be readable (not necessarily zero).
size_t sluice_json_padding(void);

/// Parses one record; `values` receives `count` entries. Returns 0, or nonzero with the reason in
/// `sluice_json_error` (simdjson's error, not an object, a duplicate key, a NUL in a string).
int sluice_json_parse(SluiceJSONParser *parser, const char *data, size_t length, SluiceJSONValue *values);
const char *sluice_json_error(const SluiceJSONParser *parser);

#ifdef __cplusplus
}
#endif

#endif
