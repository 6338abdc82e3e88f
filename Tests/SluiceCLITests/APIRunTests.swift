import Foundation
import PostgresClient
import TestSupport
import Testing

/// `sluice run` on a pipeline with an API source: the credential from the environment, the API's URL
/// from --api, the pages landed in the --source folder, then loaded.
@Suite("sluice run with an API source", .serialized)
struct APIRunTests {
    @Test func runFetchesLandsAndLoads() async throws {
        let api = try APIStandIn()
        defer { api.stop() }
        let records = (1...3).map {
            #"{"id": "T-\#($0)", "booked": "2026-11-2\#($0)", "amount": 1\#($0).00, "updated_at": "2026-11-2\#($0)T08:00:00Z"}"#
        }
        try await api.setup(["records": records, "page_size": 2, "token": "s3cret"])
        let database = try TestServer.freshDatabase("apirun")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("api-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let migrated = try CLI.run(["apply", "specs/sme-reporting.yaml", "--database", database, "--no-run"])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let arguments = [
            "run", "daily-bank", "--spec", "specs/sme-reporting.yaml", "--database", database, "--source", folder.path, "--api",
            "daily-bank=\(api.url)",
        ]

        let without = try CLI.run(arguments, removing: ["SLUICE_API_CREDENTIAL_BANK_API"])
        #expect(without.status == 1)
        #expect(without.stderr.contains("set SLUICE_API_CREDENTIAL_BANK_API to it"), "\(without.stderr)")

        let run = try CLI.run(arguments, environment: ["SLUICE_API_CREDENTIAL_BANK_API": "s3cret"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("daily-bank: 2 page(s) fetched (3 records), 2 object(s) loaded"), "\(run.stdout)")
        let landed = try FileManager.default.subpathsOfDirectory(atPath: folder.appendingPathComponent("exports/bank").path).filter {
            $0.hasSuffix(".json")
        }
        #expect(landed.count == 2)
        #expect(try Connection(database).query("SELECT count(*) FROM reporting.bank_transactions").scalar == "3")

        // --no-fetch asks the API nothing and loads what is landed (all of it already).
        let before = try await api.requests().count
        let quiet = try CLI.run(arguments + ["--no-fetch"])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stderr.contains("the API was not fetched"))
        #expect(try await api.requests().count == before)
    }
}
