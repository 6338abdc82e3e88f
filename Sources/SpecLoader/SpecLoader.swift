import Foundation
import SluiceCore
import YAML

/// The result of loading a spec: a model when no error was found, and every diagnostic either way.
public struct LoadResult: Sendable {
    public var spec: Spec?
    public var diagnostics: [Diagnostic]
    /// The tree the model was decoded from (a YAML file's with its includes merged, or a Swift spec's):
    /// what `sluice export` writes in the other form.
    public var root: YAMLNode?
    /// Every file read: the spec and what it includes, as the spec and its includes name them. A
    /// change to any of them changes the spec (the pre-commit hook checks the specs a commit touches).
    public var files: [String]
    /// Schema keys written in the spec (`section.key`), and those the decoder never looked at: for the
    /// tests that hold the decoder to the schema.
    var keysWritten: Set<String> = []
    var keysUnread: [String] = []
    /// Every key written, in the order the decoder met it.
    public internal(set) var keyOccurrences: [KeyOccurrence] = []

    public init(spec: Spec?, diagnostics: [Diagnostic], root: YAMLNode? = nil, files: [String] = []) {
        self.spec = spec
        self.diagnostics = diagnostics
        self.root = root
        self.files = files
    }
}

/// Entry point: file(s) -> YAML nodes -> merged includes -> resolved `Spec`.
public enum SpecLoader {
    /// Includes nest at most this deep. Cycle detection by name alone cannot stop a chain whose
    /// paths keep growing (`a/x.yaml` including `a/x.yaml` relative to itself, or a directory link to itself).
    public static let maxIncludeDepth = 16

    /// Reads and decodes the spec at `path` and the files it includes.
    public static func load(path: String) -> LoadResult {
        load(path: path, read: readFile)
    }

    static func readFile(_ file: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ReadError(reason: FileManager.default.fileExists(atPath: file) ? "permission denied or not a regular file" : "no such file")
        }
        return [UInt8](data)
    }

    public struct ReadError: Error {
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// Loads with a custom file reader (tests and the fuzzer keep everything in memory).
    public static func load(path: String, read: (String) throws -> [UInt8]) -> LoadResult {
        let sink = DiagnosticSink()
        var files: [String] = []
        let recording: (String) throws -> [UInt8] = { file in
            if !files.contains(file) { files.append(file) }
            return try read(file)
        }
        guard let root = readWithIncludes(path: path, read: recording, sink: sink, chain: []) else {
            return LoadResult(spec: nil, diagnostics: sink.diagnostics.sortedForOutput(), files: files)
        }
        var result = decode(root, file: path, sink: sink)
        result.files = files
        return result
    }

    /// The tree decoded into a model; no model when reading the tree or decoding it found an error.
    static func decode(_ root: YAMLNode, file: String, sink: DiagnosticSink) -> LoadResult {
        let spec = SpecDecoder(file: file, sink: sink).decode(root)
        let diagnostics = sink.diagnostics.sortedForOutput()
        var result = LoadResult(spec: diagnostics.hasErrors ? nil : spec, diagnostics: diagnostics, root: root)
        result.keysWritten = sink.written
        result.keyOccurrences = sink.occurrences
        result.keysUnread = sink.unread.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        return result
    }

    /// Convenience for tests: a spec held in a string.
    public static func load(text: String, file: String = "spec.yaml") -> LoadResult {
        load(path: file) { name in
            guard name == file else { throw ReadError(reason: "no such file") }
            return Array(text.utf8)
        }
    }

    private static func readWithIncludes(
        path: String, read: (String) throws -> [UInt8], sink: DiagnosticSink,
        chain: [String], includedAt: SourceLocation? = nil
    ) -> YAMLNode? {
        let bytes: [UInt8]
        do { bytes = try read(path) } catch let error as ReadError {
            sink.add(LoaderDiagnostics.unreadable(path, reason: error.reason, at: includedAt))
            return nil
        } catch {
            sink.add(LoaderDiagnostics.unreadable(path, reason: "\(error)", at: includedAt))
            return nil
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            sink.add(LoaderDiagnostics.unreadable(path, reason: "not valid UTF-8 text", at: includedAt))
            return nil
        }
        let (node, diagnostics) = YAMLReader(file: path).read(bytes)
        diagnostics.forEach(sink.add)
        guard var root = node else { return nil }
        guard let pairs = root.mapping else {
            sink.add(LoaderDiagnostics.wrongType(expected: "a mapping at the top of the spec", found: root, at: root.location))
            return nil
        }
        // Some other YAML (a workflow, a compose file) named as a spec: one line, not one per key. A
        // spec whose keys are mostly misspellings of a spec's (`projet`) keeps the did-you-mean
        // findings; one near miss among others (a compose file's `networks`) does not make a spec.
        let keys = pairs.compactMap(\.key.scalar)
        let nearMisses = keys.filter { Suggestion.closest(to: $0, among: SpecSchema.spec.keys) != nil }.count
        let specLike = keys.contains(where: SpecSchema.spec.keys.contains) || nearMisses * 2 > keys.count
        if chain.isEmpty, !keys.isEmpty, !specLike {
            sink.add(LoaderDiagnostics.notASpec(keys: keys, at: root.location))
            return nil
        }
        // Includes are merged first, so the including file's own lists come after what it includes.
        var merged = YAMLNode(kind: .mapping([]), location: root.location, expandedSize: 1)
        var own: [(key: YAMLNode, value: YAMLNode)] = []
        for pair in pairs {
            guard pair.key.scalar == "include" else { own.append(pair); continue }
            // Merged here, before the decoder sees the tree.
            sink.written.insert("\(SpecSchema.spec.name).include")
            for include in SpecDecoder.strings(pair.value, key: "include", sink: sink) {
                let target = resolve(include.value, relativeTo: path)
                if chain.count + 1 >= maxIncludeDepth {
                    sink.add(LoaderDiagnostics.unreadable(target, reason: "includes nest deeper than \(maxIncludeDepth) files", at: include.location))
                    continue
                }
                if chain.contains(target) || target == path {
                    sink.add(
                        LoaderDiagnostics.unreadable(
                            target, reason: "include cycle: \((chain + [path, target]).joined(separator: " -> "))",
                            at: include.location))
                    continue
                }
                if let included = readWithIncludes(
                    path: target, read: read, sink: sink, chain: chain + [path],
                    includedAt: include.location)
                {
                    merged = merge(merged, included, sink: sink)
                }
            }
        }
        root.kind = .mapping(own)
        return merge(merged, root, sink: sink)
    }

    /// The include's path relative to the including file, normalised (`a/./b/../c` is `a/c`) so cycles are seen.
    /// Plain string arithmetic: Foundation's NSString path methods trap on some inputs (found by the fuzzer).
    static func resolve(_ include: String, relativeTo file: String) -> String {
        let directory = file.lastIndex(of: "/").map { String(file[...$0]) } ?? ""
        let joined = include.hasPrefix("/") ? include : directory + include
        var parts: [Substring] = []
        for part in joined.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        return (joined.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// Mappings merge by key, lists concatenate; the same scalar key set twice is a duplicate.
    static func merge(_ base: YAMLNode, _ addition: YAMLNode, sink: DiagnosticSink) -> YAMLNode {
        switch (base.kind, addition.kind) {
        case (.mapping(let a), .mapping(let b)):
            var result = a
            for pair in b {
                if let index = result.firstIndex(where: { $0.key.scalar == pair.key.scalar }) {
                    let existing = result[index]
                    if existing.value.mapping != nil || existing.value.sequence != nil {
                        result[index].value = merge(existing.value, pair.value, sink: sink)
                        continue
                    }
                    sink.add(LoaderDiagnostics.duplicateKey(pair.key.scalar ?? "?", at: pair.key.location, first: existing.key.location))
                    continue
                }
                result.append(pair)
            }
            let location = a.isEmpty ? addition.location : base.location
            return YAMLNode(kind: .mapping(result), location: location, expandedSize: base.expandedSize + addition.expandedSize)
        case (.sequence(let a), .sequence(let b)):
            return YAMLNode(kind: .sequence(a + b), location: base.location, expandedSize: base.expandedSize + addition.expandedSize)
        default:
            sink.add(
                LoaderDiagnostics.wrongType(
                    expected: "\(base.kindName) to merge with the included value", found: addition,
                    at: addition.location))
            return base
        }
    }
}
