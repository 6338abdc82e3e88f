import Testing

@testable import SluiceCore

@Suite struct CIDRTests {
    func cidr(_ s: String) throws -> CIDR { try CIDR(parsing: s) }

    @Test func parsesAndPrintsIPv4() throws {
        let block = try cidr("10.0.0.0/16")
        #expect(block.family == .v4)
        #expect(block.prefixLength == 16)
        #expect(block.description == "10.0.0.0/16")
        #expect(block.addressCount == 65536)
        #expect(try cidr("0.0.0.0/0").isDefault)
    }

    @Test func parsesAndPrintsIPv6Canonically() throws {
        #expect(try cidr("2001:db8::/56").description == "2001:db8::/56")
        #expect(try cidr("2001:0db8:0000:0000:0000:0000:0000:0000/32").description == "2001:db8::/32")
        #expect(try cidr("::/0").isDefault)
        #expect(try cidr("fd00:0:0:1::/64").description == "fd00:0:0:1::/64")
        #expect(try cidr("2600:1f14:abc:de00::/56").family == .v6)
    }

    @Test(arguments: [
        "10.0.0.0", "10.0.0.0/33", "10.0.0/8", "256.0.0.0/8", "010.0.0.0/8", "10.0.0.0/-1", "1::2::3/64",
        "2001:db8::/129", "10.0.0.0/ 8", "", "/", "g::/16", "1:2:3:4:5:6:7:8:9/64",
    ])
    func rejectsMalformedBlocks(_ text: String) {
        #expect(throws: CIDR.ParseError.self) { try CIDR(parsing: text) }
    }

    @Test func rejectsHostBitsAndNamesTheBlock() {
        #expect(throws: CIDR.ParseError.hostBitsSet("10.0.1.7/24", canonical: "10.0.1.0/24")) { try CIDR(parsing: "10.0.1.7/24") }
        #expect(throws: CIDR.ParseError.hostBitsSet("2001:db8::1/64", canonical: "2001:db8::/64")) { try CIDR(parsing: "2001:db8::1/64") }
    }

    @Test func containmentAndOverlap() throws {
        let vpc = try cidr("10.0.0.0/16")
        #expect(vpc.contains(try cidr("10.0.3.0/24")))
        #expect(!vpc.contains(try cidr("10.1.0.0/24")))
        #expect(try !cidr("10.0.3.0/24").contains(vpc))
        #expect(vpc.overlaps(try cidr("10.0.0.0/8")))
        #expect(try cidr("10.0.2.128/25").overlaps(try cidr("10.0.2.0/24")))
        #expect(try !cidr("10.0.2.0/25").overlaps(try cidr("10.0.2.128/25")))
        // Families never contain each other, even for the default routes.
        #expect(!CIDR.anyIPv4.contains(try cidr("2001:db8::/64")))
        #expect(!CIDR.anyIPv6.overlaps(vpc))
        #expect(try cidr("2001:db8::/56").contains(try cidr("2001:db8:0:ff::/64")))
        #expect(try !cidr("2001:db8::/56").contains(try cidr("2001:db8:0:100::/64")))
    }

    @Test func longestPrefixMatchPicksTheMostSpecificRoute() throws {
        let routes: [(CIDR, String)] = [(CIDR.anyIPv4, "igw"), (try cidr("10.0.0.0/16"), "local"), (try cidr("10.0.5.0/24"), "peer")]
        #expect(CIDR.longestPrefixMatch(try cidr("10.0.5.0/26"), in: routes)?.1 == "peer")
        #expect(CIDR.longestPrefixMatch(try cidr("10.0.4.0/24"), in: routes)?.1 == "local")
        #expect(CIDR.longestPrefixMatch(try cidr("192.0.2.0/24"), in: routes)?.1 == "igw")
        // A block wider than the /24 route is not contained by it, so the /16 answers for all of it.
        #expect(CIDR.longestPrefixMatch(try cidr("10.0.4.0/23"), in: routes)?.1 == "local")
        #expect(CIDR.longestPrefixMatch(try cidr("2001:db8::/64"), in: routes) == nil)
    }

    @Test func privateRanges() throws {
        #expect(try cidr("10.20.0.0/16").isPrivateRange)
        #expect(try cidr("172.16.0.0/20").isPrivateRange)
        #expect(try !cidr("172.32.0.0/16").isPrivateRange)
        #expect(try !cidr("203.0.113.0/24").isPrivateRange)
        #expect(!CIDR.anyIPv4.isPrivateRange)
        #expect(try cidr("fd12:3456::/48").isPrivateRange)
    }

    @Test func usableAddressesKeepAWSReservations() throws {
        let subnet = Subnet(name: "s", cidr: try cidr("10.0.0.0/28"), availabilityZone: "eu-west-1a", type: .isolated)
        #expect(subnet.usableAddresses == 11)
    }
}

@Suite struct SuggestionTests {
    @Test func transpositionIsOneEdit() {
        #expect(Suggestion.editDistance("cird", "cidr") == 1)
        #expect(Suggestion.closest(to: "cird", among: ["name", "cidr", "az", "type"]) == "cidr")
        #expect(Suggestion.closest(to: "privat", among: ["public", "private", "isolated"]) == "private")
    }

    @Test func farWordsGetNoSuggestion() {
        #expect(Suggestion.closest(to: "zzzzzz", among: ["cidr", "name"]) == nil)
    }
}

@Suite struct PostgresTypeTests {
    @Test(arguments: [
        ("int", "integer"), ("timestamp with time zone", "timestamptz"), ("VARCHAR(255)", "varchar(255)"),
        ("numeric(12, 2)", "numeric(12,2)"), ("text[]", "text[]"), ("double  precision", "double precision"),
        ("bool", "boolean"), ("serial8", "bigserial"),
    ])
    func canonicalSpelling(_ input: String, _ canonical: String) throws {
        #expect(try #require(PostgresType(parsing: input)).description == canonical)
    }

    @Test(arguments: ["timestampz", "varchar(0)", "numeric(2,5)", "integer(4)", "uuid(1)", "text(", "json b"])
    func unknownTypes(_ input: String) {
        #expect(PostgresType(parsing: input) == nil)
    }
}
