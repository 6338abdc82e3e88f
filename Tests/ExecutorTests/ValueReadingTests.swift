import Foundation
import PlanFormat
import Testing

@testable import PipelineExecutor

/// Timestamps written without an offset are read in the field's zone and stored as UTC instants;
/// a wall-clock time a daylight-saving change skipped is refused, not moved.
@Suite struct ValueReadingTests {
    func read(_ text: String, format: String? = nil, zone: String) throws -> String? {
        let field = PipelinePlan.Field(path: "at", type: .timestamp, required: true, format: format, timeZone: zone)
        let reading = try #require(try ValueReading(field))
        switch reading.read(.string(text)) {
        case .success(.string(let value)): return value
        default: return nil
        }
    }

    @Test func wallClockTimesBecomeInstants() throws {
        #expect(try read("11/30/2026 14:05", format: "MM/dd/yyyy HH:mm", zone: "Europe/Berlin") == "2026-11-30T13:05:00.000Z")
        #expect(try read("30.06.2026 14:05", format: "dd.MM.yyyy HH:mm", zone: "Europe/Berlin") == "2026-06-30T12:05:00.000Z", "summer time")
        #expect(try read("2026-11-30 14:05:00", zone: "America/New_York") == "2026-11-30T19:05:00.000Z", "RFC 3339 without an offset")
        #expect(try read("2026-11-30T14:05:00+01:00", zone: "America/New_York") == "2026-11-30T14:05:00+01:00", "an offset wins")
        #expect(try read("29.03.2026 02:30", format: "dd.MM.yyyy HH:mm", zone: "Europe/Berlin") == nil, "skipped by the clocks going forward")
        #expect(
            try read("25.10.2026 02:30", format: "dd.MM.yyyy HH:mm", zone: "Europe/Berlin") == "2026-10-25T00:30:00.000Z",
            "twice when they go back: the earlier instant")
        let excel = PipelinePlan.Field(path: "at", type: .timestamp, required: true, format: "excel", timeZone: "UTC")
        guard case .success(.string(let time)) = try #require(try ValueReading(excel)).read(.double(46356.25)) else {
            Issue.record("an Excel serial with a fraction is a time of day")
            return
        }
        #expect(time == "2026-11-30T06:00:00.000Z")
    }
}
