#include "sluice_json.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace simdjson;

struct SluiceJSONParser {
    dom::parser parser;
    std::vector<std::vector<std::string>> paths;
    std::vector<std::string> rendered;  // minified objects and arrays, one slot per path
    std::string error;
    std::vector<std::string_view> keys;
};

extern "C" SluiceJSONParser *sluice_json_parser_new(const char *const *paths, size_t count, size_t maxDepth) {
    auto *parser = new SluiceJSONParser();
    // Capacity grows as records need it; the depth limit is fixed here.
    if (parser->parser.allocate(SIMDJSON_PADDING, maxDepth) != SUCCESS) {
        delete parser;
        return nullptr;
    }
    for (size_t i = 0; i < count; i++) {
        std::vector<std::string> segments;
        std::string_view path(paths[i]);
        size_t start = 0;
        while (!path.empty() && start <= path.size()) {
            size_t dot = path.find('.', start);
            if (dot == std::string_view::npos) dot = path.size();
            segments.emplace_back(path.substr(start, dot - start));
            start = dot + 1;
        }
        parser->paths.push_back(std::move(segments));
    }
    parser->rendered.resize(count);
    return parser;
}

extern "C" void sluice_json_parser_free(SluiceJSONParser *parser) { delete parser; }

extern "C" size_t sluice_json_padding(void) { return SIMDJSON_PADDING; }

extern "C" const char *sluice_json_error(const SluiceJSONParser *parser) { return parser->error.c_str(); }

static std::string printable(std::string_view text) {
    std::string out;
    for (unsigned char c : text.substr(0, 64)) {
        if (c == 0) out += "\\u0000";
        else out += char(c);
    }
    return out;
}

// Walks the whole record once: duplicate keys (which value would win is up to each reader, so the
// record is refused) and NUL characters (PostgreSQL's text and jsonb cannot hold them).
static bool inspect(SluiceJSONParser *parser, dom::element element, std::string &where) {
    switch (element.type()) {
    case dom::element_type::OBJECT: {
        dom::object object = element.get_object().value_unsafe();
        size_t first = parser->keys.size();
        for (dom::key_value_pair field : object) {
            if (std::memchr(field.key.data(), 0, field.key.size())) {
                parser->error = "a key contains \\u0000, which PostgreSQL cannot store";
                return false;
            }
            parser->keys.push_back(field.key);
        }
        auto begin = parser->keys.begin() + first, end = parser->keys.end();
        std::sort(begin, end);
        auto duplicate = std::adjacent_find(begin, end);
        if (duplicate != end) {
            parser->error = "duplicate key \"" + printable(*duplicate) + "\"" + (where.empty() ? "" : " in " + where);
            return false;
        }
        parser->keys.resize(first);
        for (dom::key_value_pair field : object) {
            size_t mark = where.size();
            if (!where.empty()) where += '.';
            where.append(field.key.data(), field.key.size());
            if (!inspect(parser, field.value, where)) return false;
            where.resize(mark);
        }
        return true;
    }
    case dom::element_type::ARRAY:
        for (dom::element item : element.get_array().value_unsafe()) {
            if (!inspect(parser, item, where)) return false;
        }
        return true;
    case dom::element_type::STRING: {
        std::string_view text = element.get_string().value_unsafe();
        if (std::memchr(text.data(), 0, text.size())) {
            parser->error = "\\u0000 in " + (where.empty() ? std::string("a string") : where) + ", which PostgreSQL cannot store";
            return false;
        }
        return true;
    }
    default:
        return true;
    }
}

static void extract(SluiceJSONParser *parser, size_t index, dom::element element, SluiceJSONValue &out) {
    out = SluiceJSONValue{};
    switch (element.type()) {
    case dom::element_type::NULL_VALUE: out.kind = SLUICE_JSON_NULL; break;
    case dom::element_type::BOOL: out.kind = element.get_bool().value_unsafe() ? SLUICE_JSON_TRUE : SLUICE_JSON_FALSE; break;
    case dom::element_type::INT64: out.kind = SLUICE_JSON_INT64; out.integer = element.get_int64().value_unsafe(); break;
    case dom::element_type::UINT64: out.kind = SLUICE_JSON_UINT64; out.unsignedInteger = element.get_uint64().value_unsafe(); break;
    case dom::element_type::DOUBLE: out.kind = SLUICE_JSON_DOUBLE; out.number = element.get_double().value_unsafe(); break;
    case dom::element_type::STRING: {
        std::string_view text = element.get_string().value_unsafe();
        out.kind = SLUICE_JSON_STRING;
        out.text = text.data();
        out.length = text.size();
        break;
    }
    case dom::element_type::OBJECT:
    case dom::element_type::ARRAY:
        out.kind = element.type() == dom::element_type::OBJECT ? SLUICE_JSON_OBJECT : SLUICE_JSON_ARRAY;
        parser->rendered[index] = simdjson::minify(element);
        out.text = parser->rendered[index].data();
        out.length = parser->rendered[index].size();
        break;
    }
}

extern "C" int sluice_json_parse(SluiceJSONParser *parser, const char *data, size_t length, SluiceJSONValue *values) {
    dom::element root;
    auto code = parser->parser.parse(data, length, false).get(root);
    if (code != SUCCESS) {
        parser->error = code == DEPTH_ERROR ? "nested deeper than the limit" : error_message(code);
        return int(code);
    }
    if (root.type() != dom::element_type::OBJECT) {
        parser->error = "the record is not a JSON object";
        return -1;
    }
    std::string where;
    parser->keys.clear();
    if (!inspect(parser, root, where)) return -2;
    for (size_t i = 0; i < parser->paths.size(); i++) {
        dom::element current = root;
        bool found = true;
        for (const std::string &segment : parser->paths[i]) {
            dom::object object;
            if (current.get_object().get(object) != SUCCESS || object.at_key(segment).get(current) != SUCCESS) {
                found = false;
                break;
            }
        }
        if (found) extract(parser, i, current, values[i]);
        else values[i] = SluiceJSONValue{};
    }
    return 0;
}
