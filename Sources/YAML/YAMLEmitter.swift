import CYAML

/// Writes a YAMLValue as YAML through libyaml's emitter: block style, two-space indent, no
/// line folding, and a string quoted whenever a YAML 1.1 reader would take it for something else.
public enum YAMLEmitter {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `literalBlocks` writes multi-line strings as `|` blocks (SQL in a spec), not as escaped one-liners.
    public static func emit(_ value: YAMLValue, literalBlocks: Bool = false) throws -> String {
        var emitter = yaml_emitter_t()
        guard yaml_emitter_initialize(&emitter) == 1 else { throw Failure(description: "libyaml: cannot initialise the emitter") }
        defer { yaml_emitter_delete(&emitter) }
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        yaml_emitter_set_output(
            &emitter,
            { data, buffer, size in
                guard let data, let buffer else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(data).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
                return 1
            }, context)
        yaml_emitter_set_unicode(&emitter, 1)
        yaml_emitter_set_indent(&emitter, 2)
        yaml_emitter_set_width(&emitter, -1)
        yaml_emitter_set_break(&emitter, YAML_LN_BREAK)

        func send(_ initialize: (inout yaml_event_t) -> Int32) throws {
            var event = yaml_event_t()
            guard initialize(&event) == 1 else { throw Failure(description: "libyaml: cannot create an event") }
            guard yaml_emitter_emit(&emitter, &event) == 1 else {
                throw Failure(description: "libyaml: \(emitter.problem.map { String(cString: $0) } ?? "emitter error")")
            }
        }
        func scalar(_ text: String, style: yaml_scalar_style_t) throws {
            var bytes = Array(text.utf8)
            try bytes.withUnsafeMutableBufferPointer { buffer in
                try send { yaml_scalar_event_initialize(&$0, nil, nil, buffer.baseAddress, Int32(buffer.count), 1, 1, style) }
            }
        }
        func node(_ value: YAMLValue) throws {
            switch value {
            case .string(let text) where literalBlocks && text.contains("\n") && text.hasSuffix("\n") && !text.hasPrefix(" "):
                try scalar(text, style: YAML_LITERAL_SCALAR_STYLE)
            case .string(let text): try scalar(text, style: needsQuotes(text) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE)
            case .int(let number): try scalar(String(number), style: YAML_PLAIN_SCALAR_STYLE)
            case .bool(let flag): try scalar(flag ? "true" : "false", style: YAML_PLAIN_SCALAR_STYLE)
            case .list(let items):
                try send {
                    yaml_sequence_start_event_initialize(&$0, nil, nil, 1, items.isEmpty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE)
                }
                for item in items { try node(item) }
                try send { yaml_sequence_end_event_initialize(&$0) }
            case .map(let entries):
                try send {
                    yaml_mapping_start_event_initialize(&$0, nil, nil, 1, entries.isEmpty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)
                }
                for (key, item) in entries {
                    try scalar(key, style: needsQuotes(key) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE)
                    try node(item)
                }
                try send { yaml_mapping_end_event_initialize(&$0) }
            }
        }
        try send { yaml_stream_start_event_initialize(&$0, YAML_UTF8_ENCODING) }
        try send { yaml_document_start_event_initialize(&$0, nil, nil, nil, 1) }
        try node(value)
        try send { yaml_document_end_event_initialize(&$0, 1) }
        try send { yaml_stream_end_event_initialize(&$0) }
        guard yaml_emitter_flush(&emitter) == 1 else { throw Failure(description: "libyaml: cannot flush") }
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    /// Strings that a YAML 1.1 reader (PyYAML, cfn-lint) would read as a bool, null or number if
    /// written plain: `yes`, `off`, `~`, `1e3`, `0777`, `2026-01-01`, `12:30`, …
    static func needsQuotes(_ text: String) -> Bool {
        if text.isEmpty { return true }
        let lower = text.lowercased()
        let words: Set<String> = ["y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", ".inf", "-.inf", "+.inf", ".nan"]
        if words.contains(lower) { return true }
        guard let first = text.unicodeScalars.first else { return true }
        // Anything starting like a number, date or time: quote rather than reproduce YAML 1.1's number grammar.
        if ("0"..."9").contains(first)
            || ((first == "-" || first == "+" || first == ".") && text.unicodeScalars.dropFirst().first.map { ("0"..."9").contains($0) } == true)
        {
            return true
        }
        return false
    }
}
