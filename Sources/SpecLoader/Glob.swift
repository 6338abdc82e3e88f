import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The project file's globs: paths relative to the project's root, `/`-separated. Within one
/// segment `*`, `?` and `[…]` match as the shell's do (fnmatch), and a segment that is exactly `**`
/// matches any number of folders, none included (`specs/**/*.yaml` matches `specs/a.yaml` too).
/// A wildcard never matches a name that starts with a dot unless the pattern's segment does.
public enum Glob {
    /// Why `pattern` cannot be used as a glob, or nil when it can.
    public static func problem(_ pattern: String) -> String? {
        if pattern.isEmpty { return "an empty glob matches nothing" }
        if pattern.hasPrefix("/") { return "globs are relative to the project file's folder; leave out the leading '/'" }
        if pattern.hasSuffix("/") { return "a glob names files; a folder's files are '\(pattern)*' or '\(pattern)**/*.yaml'" }
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false)
        if segments.contains(where: \.isEmpty) { return "'//' leaves an empty folder name" }
        if segments.contains("..") { return "a glob cannot leave the project's folder ('..')" }
        if let mixed = segments.first(where: { $0 != "**" && $0.contains("**") }) {
            return "'**' matches folders only as a whole segment ('a/**/b'); '\(mixed)' is neither that nor a '*' pattern"
        }
        return nil
    }

    /// Whether the relative path `path` (`/`-separated) matches `pattern`.
    public static func matches(_ pattern: String, path: String) -> Bool {
        match(pattern.split(separator: "/").map(String.init)[...], path.split(separator: "/").map(String.init)[...])
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            // Zero folders, or one more (never a hidden one) and try again.
            if match(pattern.dropFirst(), path) { return true }
            guard let name = path.first, path.count > 1, !name.hasPrefix(".") else { return false }
            return match(pattern, path.dropFirst())
        }
        guard let name = path.first, segment(first, matches: name) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    private static func segment(_ pattern: String, matches name: String) -> Bool {
        fnmatch(pattern, name, FNM_PERIOD) == 0
    }

    /// The files under `root` that match one of `patterns` and none of `excluded`, as sorted paths
    /// relative to `root`. Folders named in `skipping` (relative to `root`) and hidden folders
    /// (`.git`, `.build`) are not descended into by a wildcard; symbolic links to folders are not
    /// followed (a link cycle would never end), links to files are listed.
    public static func files(matching patterns: [String], excluding excluded: [String] = [], under root: String, skipping: [String] = []) -> [String]
    {
        var found = Set<String>()
        for pattern in patterns {
            let segments = pattern.split(separator: "/").map(String.init)
            // Walk from the longest prefix without wildcards; a pattern without any is one file.
            let literal = segments.prefix { !$0.contains(where: { "*?[".contains($0) }) }
            if literal.count == segments.count {
                if isFile(root + "/" + pattern) { found.insert(pattern) }
                continue
            }
            let start = literal.joined(separator: "/")
            let depth = segments.contains("**") ? Int.max : segments.count - literal.count
            walk(root: root, folder: start, depth: depth, skipping: Set(skipping)) { path in
                if matches(pattern, path: path) { found.insert(path) }
            }
        }
        return found.filter { path in !excluded.contains { matches($0, path: path) } }.sorted()
    }

    private static func walk(root: String, folder: String, depth: Int, skipping: Set<String>, visit: (String) -> Void) {
        guard depth > 0 else { return }
        let absolute = folder.isEmpty ? root : root + "/" + folder
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: absolute) else { return }
        for name in names.sorted() {
            let path = folder.isEmpty ? name : folder + "/" + name
            var status = stat()
            guard lstat(root + "/" + path, &status) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFDIR:
                if name.hasPrefix(".") || skipping.contains(path) { continue }
                walk(root: root, folder: path, depth: depth == Int.max ? depth : depth - 1, skipping: skipping, visit: visit)
            case S_IFLNK:
                if isFile(root + "/" + path) { visit(path) }
            case S_IFREG:
                visit(path)
            default:
                continue
            }
        }
    }

    private static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
