import AsyncHTTPClient
import CSimdJSON
import Foundation
import NIOCore
import NIOHTTP1
import PlanFormat

/// How a run may reach a pipeline's API: another base URL (a test server, a staging API), where
/// its credential comes from, and whether to fetch at all.
public struct APIAccess: Sendable {
    /// Replaces the spec's URL (its fixed query included).
    public var url: String?
    /// The string of the secret the spec names in `auth`.
    public var credential: @Sendable (String) async throws -> String
    /// false: load only what is landed already (`sluice run --no-fetch`).
    public var fetch = true
    /// Requests of one page before the fetch fails, 429 and 5xx included.
    public var maxAttempts = 6
    /// The first wait when the API says no `Retry-After`; doubled per attempt.
    public var retryDelay: Duration = .seconds(1)
    /// A `Retry-After` longer than this fails the fetch instead of sleeping through it.
    public var longestWait: TimeInterval = 300
    public var maxPages = 10_000
    public var maxResponseBytes = 64 << 20

    public init(url: String? = nil, fetch: Bool = true, credential: @escaping @Sendable (String) async throws -> String) {
        self.url = url
        self.fetch = fetch
        self.credential = credential
    }
}

/// What one run fetched from its pipeline's API.
public struct FetchReport: Codable, Equatable, Sendable {
    /// Where this fetch's pages were landed: `<prefix><yyyy>/<MM>/<dd>/<HHmmss>-<run>/`.
    public var landedUnder: String
    public var requests = 0
    public var pages = 0
    public var records = 0
    public var retries = 0
    /// The incremental cursor the first request sent, and the one kept for the next run.
    public var since: String?
    public var cursor: String?
    /// An earlier fetch under the same folder had been interrupted: this one replaced its pages.
    public var resumed = false
}

/// Where an unfinished fetch stands after its last landed page: enough for the next run to go on
/// from there (kept in `sluice.api_cursors.resume` as JSON).
public struct FetchProgress: Codable, Equatable, Sendable {
    /// The request for the page after the last landed one.
    public var next: String
    /// That page's number, for numbered pages.
    public var page: Int
    /// Pages landed in the fetch's folder so far.
    public var landed: Int
    /// The greatest value of the incremental field landed so far, and whether it compares as a number.
    public var greatest: String?
    public var greatestIsNumber: Bool?
}

/// Reads a pipeline's API page by page and writes each page's records to the landing store, byte for
/// byte as the API sent them (the array at `records`), as `page-00001.json`, `page-00002.json`, ….
/// The runner then loads them as any objects: exactly once, quarantined, replayable.
struct APIFetcher {
    let api: PipelinePlan.API
    let access: APIAccess
    let landing: LandingStore
    let retrying: @Sendable (_ url: String, _ attempt: Int, _ reason: String) -> Void

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Fetches from `since` (the kept cursor), or goes on from where an unfinished fetch stopped, and
    /// lands under `folder`, telling `progress` after each page; returns the greatest value of the
    /// incremental field landed (nil when no record had one) and how many pages the folder holds.
    func fetch(
        since: String?, resuming: FetchProgress?, folder: String, deadline: Date?, report: inout FetchReport,
        progress: (FetchProgress) throws -> Void
    ) async throws -> (greatest: Greatest?, pages: Int) {
        let credential: String?
        if let secret = api.authSecret {
            do { credential = try await access.credential(secret) } catch {
                throw Failure(description: "its credential (secret '\(secret)') could not be read: \(error)")
            }
        } else {
            credential = nil
        }
        // Redirects are not followed: the credential would go along to wherever they point.
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(60))))
        do {
            let result = try await fetchPages(
                since: since, resuming: resuming, folder: folder, deadline: deadline, http: http, credential: credential, report: &report,
                progress: progress)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func fetchPages(
        since: String?, resuming: FetchProgress?, folder: String, deadline: Date?, http: HTTPClient, credential: String?,
        report: inout FetchReport, progress: (FetchProgress) throws -> Void
    ) async throws -> (greatest: Greatest?, pages: Int) {
        let base = access.url ?? api.url
        var incremental: [(String, String)] = []
        if let param = api.incrementalParam, let since { incremental.append((param, since)) }
        var pageNumber = resuming?.page ?? api.firstPage ?? 1
        func pageQuery() -> [(String, String)] {
            guard api.pagination == .page else { return [] }
            var query = [(api.pageParam ?? "page", String(pageNumber))]
            if let sizeParam = api.pageSizeParam, let size = api.pageSize { query.append((sizeParam, String(size))) }
            return query
        }
        var url = resuming?.next ?? Self.adding(incremental + pageQuery(), to: base)
        var landed = resuming?.landed ?? 0
        var greatest = resuming?.greatest.map { Greatest(text: $0, number: resuming?.greatestIsNumber == true ? Double($0) : nil) }
        var tokens: Set<String> = []
        let recordFields = try JSONRecordParser(paths: api.incrementalFrom.map { [$0] } ?? [])
        let cursorField = try api.pagination == .cursor ? api.cursorFrom.map { try JSONRecordParser(paths: [$0]) } : nil
        var asked = 0
        while true {
            asked += 1
            guard asked <= access.maxPages else {
                throw Failure(description: "the API gave more than \(access.maxPages) pages in one run; the next run goes on from there")
            }
            if let deadline, Date() > deadline {
                throw Failure(description: "the deadline came before the API's last page; the next run goes on from there")
            }
            let (body, headers) = try await get(url, http: http, credential: credential, deadline: deadline, report: &report)
            let page = try Page(body: body, records: api.records, cursor: cursorField, url: url)
            if !page.elements.isEmpty {
                landed += 1
                report.pages += 1
                report.records += page.elements.count
                try await landing.write(key: folder + Self.pageName(landed), body: Array(body[page.array]))
                if let from = api.incrementalFrom {
                    greatest = try Self.greatest(of: from, in: page, parser: recordFields, after: greatest)
                }
            }
            var next: String?
            switch api.pagination {
            case .none:
                next = nil
            case .link:
                next = Self.nextLink(headers, relativeTo: url)
                if let next, Self.origin(next) != Self.origin(url) {
                    throw Failure(description: "the API's next link \(next) leaves \(Self.origin(url)): the credential is not sent elsewhere")
                }
            case .cursor:
                if let token = page.cursor, !token.isEmpty {
                    guard tokens.insert(token).inserted else {
                        throw Failure(description: "the API gave the cursor '\(token)' twice: its pages would never end")
                    }
                    next = Self.adding(incremental + [(api.cursorParam ?? "cursor", token)], to: base)
                }
            case .page:
                // An empty page is past the last; a short one is the last.
                if !page.elements.isEmpty && page.elements.count >= (api.pageSize ?? 1) {
                    pageNumber += 1
                    next = Self.adding(incremental + pageQuery(), to: base)
                }
            }
            guard let next else { return (greatest, landed) }
            url = next
            try progress(
                FetchProgress(
                    next: next, page: pageNumber, landed: landed, greatest: greatest?.text, greatestIsNumber: greatest.map { $0.number != nil }))
        }
    }

    /// `page-00001.json`: pages sort, and load, in the order they came.
    static func pageName(_ number: Int) -> String { String(format: "page-%05d.json", number) }

    /// One GET, retried on 429, 5xx and failed connections: after `Retry-After` when the API says it
    /// (seconds or an HTTP date), else after a doubling delay.
    private func get(
        _ url: String, http: HTTPClient, credential: String?, deadline: Date?, report: inout FetchReport
    ) async throws -> ([UInt8], HTTPHeaders) {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "sluice")
        if let credential, let header = api.authHeader {
            request.headers.add(name: header, value: api.authScheme.map { "\($0) \(credential)" } ?? credential)
        }
        var attempt = 1
        while true {
            report.requests += 1
            var reason: String
            var wait: TimeInterval?
            do {
                let response = try await http.execute(request, timeout: .seconds(60))
                let status = response.status.code
                if (200..<300).contains(status) {
                    do {
                        let body = try await response.body.collect(upTo: access.maxResponseBytes)
                        return (Array(buffer: body), response.headers)
                    } catch is NIOTooManyBytesError {
                        throw Failure(description: "\(url) answered with more than \(access.maxResponseBytes >> 20) MiB: ask for smaller pages")
                    }
                }
                let text = String(decoding: (try? await response.body.collect(upTo: 4096)).map { Array(buffer: $0) } ?? [], as: UTF8.self)
                let said = text.isEmpty ? "" : ": " + String(text.prefix(200)).replacingOccurrences(of: "\n", with: " ")
                guard status == 429 || (500..<600).contains(status) else {
                    if status == 401 || status == 403 {
                        throw Failure(
                            description:
                                "\(url) refused the credential (\(status))\(said); put the API's token in secret '\(api.authSecret ?? "")'")
                    }
                    if (300..<400).contains(status) {
                        throw Failure(
                            description:
                                "\(url) redirects (\(status)) to \(response.headers.first(name: "Location") ?? "?"): give that URL in the spec")
                    }
                    throw Failure(description: "\(url) answered \(status)\(said)")
                }
                reason = "HTTP \(status)"
                if let header = response.headers.first(name: "Retry-After") {
                    guard let seconds = Self.retryAfter(header, now: Date()) else {
                        throw Failure(description: "\(url) answered \(status) with a Retry-After Sluice cannot read: '\(header)'")
                    }
                    guard seconds <= access.longestWait else {
                        throw Failure(
                            description:
                                "\(url) answered \(status) and asks to wait \(Int(seconds)) s (Retry-After), longer than \(Int(access.longestWait)) s: the next run goes on"
                        )
                    }
                    wait = seconds
                }
            } catch let failure as Failure {
                throw failure
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                reason = "no answer in time"
            } catch {
                reason = "\(error)"
            }
            guard attempt < access.maxAttempts else {
                throw Failure(description: "\(url): \(reason), \(attempt) times; giving up until the next run")
            }
            let backoff = (access.retryDelay * (1 << (attempt - 1))).components
            let delay = wait ?? Double(backoff.seconds) + Double(backoff.attoseconds) / 1e18
            if let deadline, Date().addingTimeInterval(delay) > deadline {
                throw Failure(
                    description: "\(url): \(reason); waiting \(Int(delay.rounded(.up))) s more would pass the deadline: the next run goes on")
            }
            retrying(url, attempt, reason + (wait != nil ? ", Retry-After \(Int(delay)) s" : ""))
            report.retries += 1
            try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            attempt += 1
        }
    }

    /// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT` (RFC 9110 §10.2.3), as seconds from `now`.
    static func retryAfter(_ value: String, now: Date) -> TimeInterval? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return TimeInterval(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// The `rel="next"` target of a `Link` header (RFC 8288), resolved against the request's URL.
    static func nextLink(_ headers: HTTPHeaders, relativeTo url: String) -> String? {
        for value in headers["Link"] {
            for link in value.split(separator: ",") {
                let parts = link.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let target = parts.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
                let isNext = parts.dropFirst().contains { parameter in
                    let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard pair.count == 2, pair[0].lowercased() == "rel" else { return false }
                    return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased().split(separator: " ").contains("next")
                }
                guard isNext else { continue }
                let reference = String(target.dropFirst().dropLast())
                return URL(string: reference, relativeTo: URL(string: url))?.absoluteString
            }
        }
        return nil
    }

    /// `scheme://host:port` of a URL.
    static func origin(_ url: String) -> String {
        guard let parsed = URL(string: url) else { return url }
        return "\(parsed.scheme ?? "")://\(parsed.host ?? "")\(parsed.port.map { ":\($0)" } ?? "")"
    }

    /// `url` with `parameters` appended to its query, each percent-encoded as RFC 3986 leaves only
    /// unreserved characters bare.
    static func adding(_ parameters: [(String, String)], to url: String) -> String {
        guard !parameters.isEmpty else { return url }
        var unreserved = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        unreserved.insert(charactersIn: "-._~")
        func encode(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text }
        let query = parameters.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
        return url + (url.contains("?") ? (url.hasSuffix("?") || url.hasSuffix("&") ? "" : "&") : "?") + query
    }

    /// The greatest of the incremental field so far: numbers (as JSON writes them) compare as
    /// numbers, text as text.
    struct Greatest {
        var text: String
        var number: Double?

        /// Whether this sorts after `other`; nil when one is a number and the other text.
        func isAfter(_ other: Greatest) -> Bool? {
            switch (number, other.number) {
            case (let a?, let b?): return a > b
            case (nil, nil): return other.text.utf8.lexicographicallyPrecedes(text.utf8)
            default: return nil
            }
        }

        /// The cursor to keep: `greatest` unless it sorts before the one the fetch started from
        /// (kept as text, and read as `greatest` is: a number when it is one).
        static func kept(since: String?, greatest: Greatest?) -> String? {
            guard let since, let greatest else { return greatest?.text ?? since }
            let started = Greatest(text: since, number: greatest.number == nil ? nil : Double(since))
            return started.isAfter(greatest) == true ? since : greatest.text
        }
    }

    static func greatest(of field: String, in page: Page, parser: JSONRecordParser, after current: Greatest?) throws -> Greatest? {
        var best = current
        var values: [Value] = [.missing]
        try page.padded.withUnsafeBytes { bytes in
            for element in page.elements {
                guard parser.parse(UnsafeRawBufferPointer(rebasing: bytes[element]), into: &values) == nil else { continue }
                let candidate: Greatest
                switch values[0] {
                case .integer(let value): candidate = Greatest(text: String(value), number: Double(value))
                case .unsigned(let value): candidate = Greatest(text: String(value), number: Double(value))
                case .double(let value): candidate = Greatest(text: Value.format(value), number: value)
                case .string(let value) where !value.isEmpty: candidate = Greatest(text: value, number: nil)
                default: continue
                }
                guard let known = best else {
                    best = candidate
                    continue
                }
                guard let after = candidate.isAfter(known) else {
                    throw Failure(description: "the records' '\(field)' is a number in one and text in another: it cannot be a cursor")
                }
                if after { best = candidate }
            }
        }
        return best
    }
}

/// A response: where its records' array is, its elements, and the next page's token.
struct Page {
    /// The body followed by the padding simdjson reads past a value's end: copied once per page.
    let padded: [UInt8]
    var array: Range<Int>
    var elements: [Range<Int>]
    var cursor: String?

    /// `cursor` reads the next page's token (its one path), when the pages follow a cursor.
    init(body: [UInt8], records: String?, cursor cursorField: JSONRecordParser?, url: String) throws {
        padded = body + [UInt8](repeating: 0x20, count: sluice_json_padding())
        let path = records.map { $0.split(separator: ".").map { Array($0.utf8) } } ?? []
        var scanner = JSONScanner(bytes: body)
        do {
            guard let range = try scanner.value(at: path[...]) else {
                throw APIFetcher.Failure(description: "the response of \(url) has no '\(records ?? "")': its records are not where the spec says")
            }
            guard body[range.lowerBound] == UInt8(ascii: "[") else {
                if body[range].elementsEqual("null".utf8) {
                    (array, elements) = (range, [])
                    cursor = nil
                    return
                }
                throw APIFetcher.Failure(
                    description:
                        "the response of \(url) holds no array at \(records.map { "'\($0)'" } ?? "its top"): its records are not where the spec says")
            }
            array = range
            elements = try scanner.elements(of: range)
        } catch let error as JSONScanner.Malformed {
            throw APIFetcher.Failure(description: "the response of \(url) is not JSON: \(error.description) at byte \(error.offset)")
        }
        guard let cursorField else {
            cursor = nil
            return
        }
        let cursorFrom = cursorField.paths[0]
        // The whole document through simdjson: it is valid JSON, and the token is read as JSON says.
        var values: [Value] = [.missing]
        let problem = padded.withUnsafeBytes { cursorField.parse(UnsafeRawBufferPointer(rebasing: $0[0..<body.count]), into: &values) }
        if let problem { throw APIFetcher.Failure(description: "the response of \(url) is refused: \(problem)") }
        switch values[0] {
        case .string(let text): cursor = text
        case .integer(let value): cursor = String(value)
        case .unsigned(let value): cursor = String(value)
        case .missing, .null: cursor = nil
        default: throw APIFetcher.Failure(description: "the response of \(url) has a '\(cursorFrom)' that is neither text nor a number")
        }
    }
}

/// Finds values in a JSON document by object keys without building it: strings and nesting are
/// followed, nothing is decoded. A key written with escapes is compared as written.
struct JSONScanner {
    struct Malformed: Error {
        var description: String
        var offset: Int
    }

    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The byte range of the value at `path` (object keys), nil when an object on the way lacks the key.
    mutating func value(at path: ArraySlice<[UInt8]>) throws -> Range<Int>? {
        skipSpace()
        guard let key = path.first else {
            let start = index
            try skipValue()
            return start..<index
        }
        guard peek == UInt8(ascii: "{") else { throw Malformed(description: "expected an object", offset: index) }
        index += 1
        skipSpace()
        if peek == UInt8(ascii: "}") { return nil }
        while true {
            skipSpace()
            let name = try string()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw Malformed(description: "expected ':'", offset: index) }
            index += 1
            if bytes[name].elementsEqual(key) { return try value(at: path.dropFirst()) }
            skipSpace()
            try skipValue()
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): return nil
            default: throw Malformed(description: "expected ',' or '}'", offset: index)
            }
        }
    }

    /// The ranges of an array's elements.
    mutating func elements(of array: Range<Int>) throws -> [Range<Int>] {
        index = array.lowerBound + 1
        var elements: [Range<Int>] = []
        skipSpace()
        if peek == UInt8(ascii: "]") { return [] }
        while true {
            skipSpace()
            let start = index
            try skipValue()
            elements.append(start..<index)
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): return elements
            default: throw Malformed(description: "expected ',' or ']'", offset: index)
            }
        }
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    /// The range of a string's content, between its quotes.
    private mutating func string() throws -> Range<Int> {
        guard peek == UInt8(ascii: "\"") else { throw Malformed(description: "expected a string", offset: index) }
        index += 1
        let start = index
        while let byte = peek {
            if byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if byte == UInt8(ascii: "\"") {
                index += 1
                return start..<(index - 1)
            }
            index += 1
        }
        throw Malformed(description: "a string without its closing quote", offset: start - 1)
    }

    private mutating func skipValue() throws {
        guard let first = peek else { throw Malformed(description: "expected a value, found the end", offset: index) }
        switch first {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            let start = index
            while let byte = peek {
                switch byte {
                case UInt8(ascii: "\""):
                    _ = try string()
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return
                    }
                default: break
                }
                index += 1
            }
            throw Malformed(description: "an object or array without its end", offset: start)
        default:
            let start = index
            while let byte = peek,
                !(byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == 0x20
                    || byte == 0x09 || byte == 0x0A || byte == 0x0D)
            {
                index += 1
            }
            guard index > start else { throw Malformed(description: "expected a value", offset: index) }
        }
    }
}
