import CloudFormation
import Foundation
import SpecLoader
import Testing
import YAML

@Suite("YAML emitter (libyaml)")
struct YAMLEmitterTests {
    static let yaml11Typed: Set<String> = ["yes", "no", "~", "null", "1e3", "0777", "12:30", "2026-01-01", "-1", ".5"]

    let template: TemplateValue = [
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": [
            "Bucket": [
                "Type": "AWS::S3::Bucket",
                "Properties": [
                    "VersioningConfiguration": ["Status": "Enabled"],
                    "Tags": [["Key": "on", "Value": "yes"], ["Key": "port", "Value": "5432"], ["Key": "empty", "Value": ""]],
                    "Arn": .getAtt("Other", "Arn"),
                    "Count": 3,
                    "Flag": true,
                    "Nothing": [],
                ],
            ]
        ],
    ]

    @Test func stringsAYAML11ReaderWouldMisreadAreQuoted() throws {
        let text = try YAMLEmitter.emit(template)
        #expect(text.contains("AWSTemplateFormatVersion: \"2010-09-09\""))
        #expect(text.contains("Key: \"on\""))
        #expect(text.contains("Value: \"yes\""))
        #expect(text.contains("Value: \"5432\""))
        #expect(text.contains("Value: \"\""))
        #expect(text.contains("Count: 3\n"))
        #expect(text.contains("Flag: true\n"))
        #expect(text.contains("Nothing: []\n"))
        #expect(text.contains("Fn::GetAtt:\n"))
    }

    @Test func outputIsStableAndKeepsKeyOrder() throws {
        let first = try YAMLEmitter.emit(template)
        #expect(first == (try YAMLEmitter.emit(template)))
        let order = ["AWSTemplateFormatVersion", "Resources", "Type", "Properties", "VersioningConfiguration", "Tags", "Arn", "Count"]
        let positions = order.map { first.range(of: $0 + ":")!.lowerBound }
        #expect(positions == positions.sorted())
    }

    /// What the emitter writes, Sluice's own YAML reader reads back as the same strings.
    @Test func readsBackAsWritten() throws {
        let tricky: [String] = [
            "yes", "No", "~", "null", "1e3", "0777", "12:30", "2026-01-01", "-1", ".5", "a: b", "#x", "- item", "'q'", "\"dq\"",
            "multi\nline", "tab\there", "ünïcode", "arn:aws:s3:::bucket/*", "*", "&anchor", "!tag", "%", "@at", "`tick`",
        ]
        let value = TemplateValue.map(tricky.enumerated().map { ("k\($0.offset)", .string($0.element)) })
        let text = try YAMLEmitter.emit(value)
        let root = try #require(YAMLReader(file: "emitted.yaml").read(Array(text.utf8)).root?.mapping)
        for (index, expected) in tricky.enumerated() {
            let node = try #require(root.first { $0.key.scalar == "k\(index)" }?.value)
            #expect(node.scalar == expected, "\(expected)")
            // Written plain only when no YAML 1.1 reader could take it for a bool, null or number.
            if node.isPlainScalar { #expect(!YAMLEmitterTests.yaml11Typed.contains(expected.lowercased()), "\(expected)") }
        }
    }
}
