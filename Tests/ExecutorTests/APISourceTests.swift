import Foundation
import LiveWarehouse
import PlanCompiler
import PlanFormat
import PostgresClient
import SluiceCore
import SpecLoader
import TestSupport
import Testing
import WarehouseDDL

@testable import PipelineExecutor

/// API sources, through the sme-reporting spec's daily-bank pipeline against a web API served for
/// the test (api_server.py): pages landed first, then loaded exactly once; the cursor kept in the
/// warehouse; 429 and 5xx retried as `Retry-After` says; a fetch cut short repeated into its folder.
@Suite("API sources", .serialized)
struct APISourceTests {
    /// One API, one warehouse, one landing folder, for a test's runs.
    final class Setting: @unchecked Sendable {
        let api: APIStandIn
        let database: String
        let landing: URL
        let plan: ETLPlan
        let pipeline: PipelinePlan

        init(pagination: String = "cursor", change: (inout Spec) -> Void = { _ in }) throws {
            var spec = try #require(SpecLoader.load(path: packageRoot.appendingPathComponent("specs/sme-reporting.yaml").path).spec)
            if let index = spec.pipelines.firstIndex(where: { $0.name == "daily-bank" }) {
                switch pagination {
                case "link": spec.pipelines[index].source.api?.pagination = .link
                case "page": spec.pipelines[index].source.api?.pagination = .page(param: "page", first: 1, sizeParameter: "per_page", size: 2)
                case "none": spec.pipelines[index].source.api?.pagination = .none
                default: break
                }
            }
            change(&spec)
            plan = try #require(PlanCompiler.compile(spec))
            pipeline = try #require(plan.pipelines.first { $0.name == "daily-bank" })
            api = try APIStandIn()
            database = try TestServer.freshDatabase("api")
            try Migrator(DesiredSchema(warehouse: spec.warehouse!, pipelines: spec.pipelines)).apply(on: try Connection(database))
            landing = FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: landing, withIntermediateDirectories: true)
        }

        deinit {
            api.stop()
            try? FileManager.default.removeItem(at: landing)
        }

        func run(credential: String = "s3cret", longestWait: TimeInterval = 300, deadline: Date? = nil) async throws -> PipelineResult {
            var options = RunOptions(database: database)
            options.deadline = deadline
            var access = APIAccess(url: api.url) { secret in
                #expect(secret == "bank-api")
                return credential
            }
            access.retryDelay = .milliseconds(100)
            access.longestWait = longestWait
            options.api = access
            return try await PipelineRunner(plan: plan, pipeline: pipeline, store: FolderStore(root: landing), options: options).run()
        }

        /// The landed pages, by key under the landing folder.
        func landed() throws -> [String: String] {
            var pages: [String: String] = [:]
            let enumerator = FileManager.default.enumerator(at: landing, includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                guard url.pathExtension == "json" else { continue }
                let key = String(url.standardizedFileURL.path.dropFirst(landing.standardizedFileURL.path.count + 1))
                pages[key] = try String(contentsOf: url, encoding: .utf8)
            }
            return pages
        }

        func query(_ sql: String) throws -> [[String?]] { try Connection(database).query(sql).rows }
    }

    static func transaction(_ id: Int, amount: String = "10.50", updated: String) -> String {
        #"{"id": "T-\#(id)", "booked": "2026-11-2\#(id % 10)", "amount": \#(amount), "counterparty": " Shop \#(id) ", "updated_at": "\#(updated)"}"#
    }

    static let five = (1...5).map { transaction($0, amount: $0 == 1 ? "1250.00" : "1\($0).10", updated: "2026-11-2\($0)T08:00:00Z") }

    @Test(arguments: ["cursor", "link", "page"])
    func pagesAreLandedThenLoadedExactlyOnce(pagination: String) async throws {
        let setting = try Setting(pagination: pagination)
        try await setting.api.setup(["records": Self.five, "pagination": pagination, "page_size": 2, "token": "s3cret"])
        let first = try await setting.run()
        #expect(first.succeeded, "\(first.fetchFailed ?? "") \(first.objectsFailed)")
        let fetched = try #require(first.fetched)
        #expect(fetched.pages == 3 && fetched.records == 5)
        #expect(fetched.since == nil && fetched.cursor == "2026-11-25T08:00:00Z")
        #expect(first.objectsLoaded == 3 && first.counts.recordsLoaded == 5)
        // The pages are the API's records arrays, byte for byte: `1250.00` keeps its zeros.
        let pages = try setting.landed()
        #expect(pages.count == 3)
        #expect(pages.keys.allSatisfy { $0.hasPrefix("bank/") && $0.contains("-\(first.runID)/page-0000") }, "\(pages.keys.sorted())")
        let firstPage = try #require(pages.first { $0.key.hasSuffix("page-00001.json") }?.value)
        #expect(firstPage == "[" + Self.five[0..<2].joined(separator: ", ") + "]")
        #expect(try setting.query("SELECT count(*), sum(amount)::text FROM reporting.bank_transactions") == [["5", "1304.40"]])
        #expect(try setting.query("SELECT counterparty FROM reporting.bank_transactions WHERE transaction_id = 'T-2'") == [["Shop 2"]])
        // Every request carried the secret's string as the spec says: `Authorization: Bearer …`.
        #expect(try await setting.api.requests().allSatisfy { $0.authorization == "Bearer s3cret" })
        #expect(
            try setting.query("SELECT cursor, fetching_into FROM sluice.api_cursors WHERE pipeline = 'daily-bank'") == [
                ["2026-11-25T08:00:00Z", nil]
            ])

        // The next run asks from the kept cursor; the API gives the boundary record again and one
        // changed since: the upsert keeps one row each, the change applied.
        var changed = Self.five
        changed[4] = Self.transaction(5, amount: "99.99", updated: "2026-11-26T09:00:00Z")
        try await setting.api.setup(["records": changed])
        let second = try await setting.run()
        #expect(second.succeeded)
        #expect(second.fetched?.since == "2026-11-25T08:00:00Z" && second.fetched?.cursor == "2026-11-26T09:00:00Z")
        let asked = try await setting.api.requests().last?.path ?? ""
        #expect(asked.contains("updated_since=2026-11-25T08%3A00%3A00Z"), "\(asked)")
        #expect(second.objectsLoaded == 1 && second.objectsSkipped == 3)
        #expect(try setting.query("SELECT count(*) FROM reporting.bank_transactions") == [["5"]])
        #expect(try setting.query("SELECT amount::text FROM reporting.bank_transactions WHERE transaction_id = 'T-5'") == [["99.99"]])

        // Nothing new: nothing landed, nothing loaded, and the run succeeds.
        try await setting.api.setup(["records": [] as [String]])
        let third = try await setting.run()
        #expect(third.succeeded && third.fetched?.pages == 0 && third.objectsLoaded == 0)
        #expect(third.fetched?.cursor == "2026-11-26T09:00:00Z")
    }

    @Test func tooManyRequestsAndServerErrorsAreRetriedAsRetryAfterSays() async throws {
        let setting = try Setting()
        try await setting.api.setup([
            "records": Self.five, "page_size": 2, "token": "s3cret", "break_page": 2,
            "faults": [["status": 429, "retry_after": "1", "times": 2], ["status": 503, "times": 1]],
        ])
        let result = try await setting.run()
        #expect(result.succeeded, "\(result.fetchFailed ?? "")")
        #expect(result.fetched?.retries == 4, "two 429s, a 503 and a page cut off mid-body")
        #expect(result.counts.recordsLoaded == 5)
        let requests = try await setting.api.requests()
        #expect(requests.prefix(3).map(\.status) == [429, 429, 503])
        // Each 429 said "Retry-After: 1": the next request waited that long.
        #expect(requests[1].at - requests[0].at >= 0.95 && requests[2].at - requests[1].at >= 0.95)
    }

    @Test func aWaitLongerThanThePatienceFailsThisPipelineOnly() async throws {
        let setting = try Setting()
        let tomorrow = Date().addingTimeInterval(86_400)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        try await setting.api.setup(["records": Self.five, "faults": [["status": 429, "retry_after": formatter.string(from: tomorrow)]]])
        let result = try await setting.run()
        #expect(!result.succeeded)
        let failure = try #require(result.fetchFailed)
        #expect(failure.contains("asks to wait") && failure.contains("Retry-After"), "\(failure)")
        #expect(try setting.query("SELECT status, error LIKE 'fetching %' FROM sluice.load_runs") == [["failed", "t"]])
        #expect(try setting.landed().isEmpty)
    }

    @Test func aWaitPastTheDeadlineIsNotSlept() async throws {
        let setting = try Setting()
        try await setting.api.setup(["records": Self.five, "faults": [["status": 503, "retry_after": "30"]]])
        let started = Date()
        // Five seconds are kept back for loading: the fetch has three.
        let result = try await setting.run(deadline: Date().addingTimeInterval(8))
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(result.fetchFailed?.contains("would pass the deadline") == true, "\(result.fetchFailed ?? "")")
    }

    @Test func aRefusedCredentialSaysWhichSecretToFill() async throws {
        let setting = try Setting()
        try await setting.api.setup(["records": Self.five, "token": "s3cret"])
        let result = try await setting.run(credential: "stale")
        let failure = try #require(result.fetchFailed)
        #expect(failure.contains("refused the credential (401)") && failure.contains("secret 'bank-api'"), "\(failure)")
    }

    @Test func recordsElsewhereThanTheSpecSaysFailTheFetch() async throws {
        let setting = try Setting { spec in
            if let index = spec.pipelines.firstIndex(where: { $0.name == "daily-bank" }) { spec.pipelines[index].source.api?.records = "items" }
        }
        try await setting.api.setup(["records": Self.five])
        let result = try await setting.run()
        #expect(result.fetchFailed?.contains("has no 'items'") == true, "\(result.fetchFailed ?? "")")
    }

    @Test func aFetchCutShortIsGoneOnWithAndNothingOfItLoadsBeforeItIsComplete() async throws {
        let setting = try Setting()
        // One record a page; the third request is refused (a 400 is not retried): two pages are landed.
        try await setting.api.setup(["records": Self.five, "page_size": 1, "refuse_after": 2])
        let first = try await setting.run()
        #expect(!first.succeeded && first.fetchFailed?.contains("answered 400") == true, "\(first.fetchFailed ?? "")")
        let folder = try #require(setting.query("SELECT fetching_into FROM sluice.api_cursors").first?[0])
        #expect(try setting.landed().keys.sorted() == [folder + "page-00001.json", folder + "page-00002.json"])
        let resume = try #require(setting.query("SELECT resume::json->>'next', resume::json->>'landed' FROM sluice.api_cursors").first)
        #expect(resume[0]?.hasSuffix("?cursor=c2") == true && resume[1] == "2", "\(resume)")
        // What it landed is not loaded while the fetch is unfinished.
        #expect(first.objectsLoaded == 0 && first.objectsLeft == 2)
        #expect(first.warnings.contains { $0.contains("unfinished fetch") })

        // Named by an S3 notification, a page of the unfinished fetch is still not loaded.
        var named = RunOptions(database: setting.database)
        named.objectKeys = [folder + "page-00001.json"]
        let notified = try await PipelineRunner(
            plan: setting.plan, pipeline: setting.pipeline, store: FolderStore(root: setting.landing), options: named
        ).run()
        #expect(notified.objectsLoaded == 0 && notified.objectsLeft == 1)

        // The next run goes on from the third record, into the same folder, and then loads it all.
        try await setting.api.setup(["records": Self.five, "page_size": 3])
        let second = try await setting.run()
        #expect(second.succeeded, "\(second.fetchFailed ?? "")")
        #expect(second.fetched?.resumed == true && second.fetched?.landedUnder == folder && second.fetched?.pages == 1)
        let last = try await setting.api.requests().last?.path ?? ""
        #expect(last.hasSuffix("cursor=c2"), "\(last)")
        #expect(try setting.landed().keys.sorted() == (1...3).map { folder + "page-0000\($0).json" })
        #expect(second.counts.recordsLoaded == 5 && second.objectsLoaded == 3)
        #expect(try setting.query("SELECT count(*) FROM reporting.bank_transactions") == [["5"]])
        #expect(try setting.query("SELECT fetching_into, resume, cursor FROM sluice.api_cursors") == [[nil, nil, "2026-11-25T08:00:00Z"]])
    }

    @Test func aPageWrittenAsTheFetchWasCutShortIsRemovedWhenTheFetchEndsBeforeIt() async throws {
        let setting = try Setting()
        try await setting.api.setup(["records": Self.five, "page_size": 2, "refuse_after": 1])
        let first = try await setting.run()
        #expect(first.fetchFailed != nil)
        let folder = try #require(try setting.query("SELECT fetching_into FROM sluice.api_cursors").first?[0])
        // As if the process died after writing page 2 and before noting it: the API has nothing more now.
        try Data("[{\"id\": \"T-9\"}]".utf8).write(to: setting.landing.appendingPathComponent(folder + "page-00002.json"))
        try await setting.api.setup(["records": Array(Self.five[0..<2]), "page_size": 2])
        let second = try await setting.run()
        #expect(second.succeeded && second.fetched?.pages == 0)
        #expect(try setting.landed().keys.sorted() == [folder + "page-00001.json"])
        #expect(try setting.query("SELECT count(*) FROM reporting.bank_transactions") == [["2"]])
    }
}
