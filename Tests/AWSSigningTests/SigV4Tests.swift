import AWSSigning
import Foundation
import Testing

/// AWS's Signature Version 4 test suite (the 2015-08-30 vectors), then botocore as a second signer.
@Suite("SigV4")
struct SigV4Tests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let token =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method = "GET"
        var path = "/"
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body = ""
        var signature: String
        var testDescription: String { name }
    }

    /// Name, request and the signature the suite publishes for it.
    static let vectors: [Vector] = [
        Vector(name: "get-vanilla", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "get-header-key-duplicate", headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        Vector(
            name: "get-header-value-order",
            headers: [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")],
            signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
        Vector(
            name: "get-header-value-trim", headers: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        Vector(
            name: "get-unreserved", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        Vector(name: "get-utf8", path: "/ሴ", signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        Vector(
            name: "get-vanilla-query-order-key-case", query: [("Param2", "value2"), ("Param1", "value1")],
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(
            name: "get-vanilla-query-unreserved",
            query: [
                (
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                )
            ],
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        Vector(name: "get-vanilla-utf8-query", query: [("ሴ", "bar")], signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        Vector(name: "post-vanilla", method: "POST", signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(
            name: "post-header-key-sort", method: "POST", headers: [("My-Header1", "value1")],
            signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
        Vector(
            name: "post-header-value-case", method: "POST", headers: [("My-Header1", "VALUE1")],
            signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        Vector(
            name: "post-sts-header-before", method: "POST", headers: [("X-Amz-Security-Token", token)],
            signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
        Vector(
            name: "post-vanilla-query", method: "POST", query: [("Param1", "value1")],
            signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
        Vector(
            name: "post-vanilla-query-nonunreserved", method: "POST", query: [("@#$%^", ""), ("+", "/,?><`\";:\\|][{}")],
            signature: "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"),
        Vector(
            name: "post-x-www-form-urlencoded", method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: "Param1=value1",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    ]

    @Test(arguments: vectors)
    func awsTestSuite(_ vector: Vector) {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "service")
        let request = SigningRequest(
            method: vector.method, path: vector.path, query: vector.query,
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")] + vector.headers,
            payloadHash: SigningRequest.hash(Data(vector.body.utf8)))
        let signed = signer.sign(request, at: Self.date)
        #expect(signed.signature == vector.signature, "canonical request:\n\(signed.canonicalRequest)")
        #expect(signed.authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="))
    }

    @Test func stringToSignMatchesTheSuite() {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "service")
        let signed = signer.sign(
            SigningRequest(
                method: "GET", path: "/", headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                payloadHash: SigningRequest.emptyPayloadHash), at: Self.date)
        #expect(
            signed.stringToSign
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        )
    }

    /// AWS's S3 documentation example: GET /test.txt with a Range header.
    @Test func s3DocumentationExample() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3")
        let signed = signer.sign(
            SigningRequest(
                method: "GET", path: "/test.txt",
                headers: [
                    ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                    ("x-amz-content-sha256", SigningRequest.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
                ], payloadHash: SigningRequest.emptyPayloadHash), at: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// botocore (the Python SDK's signer) signs S3 requests with awkward keys, queries and a session
    /// token; this signer must produce the same Authorization header for each.
    @Test func agreesWithBotocore() throws {
        let cases: [[String: Any]] = [
            ["method": "GET", "path": "/raw-bucket/events/2026/11/26/09/part 0001.json.gz", "query": [[String]](), "body": ""],
            [
                "method": "GET", "path": "/raw-bucket",
                "query": [["list-type", "2"], ["prefix", "events/2026/"], ["continuation-token", "1/abc+def=="], ["max-keys", "1000"]], "body": "",
            ],
            ["method": "PUT", "path": "/quarantine/quarantine/run 7/ünïcode & (1).jsonl", "query": [[String]](), "body": "{\"a\":1}\n"],
            [
                "method": "GET", "path": "/b/k~e.y_-", "query": [["versionId", "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"]],
                "body": "",
            ],
        ]
        let script = """
            import datetime, json, sys
            from botocore.auth import S3SigV4Auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            from urllib.parse import quote, urlencode
            out = []
            for case in json.load(sys.stdin):
                url = "http://127.0.0.1:9000" + quote(case["path"], safe="/~")
                if case["query"]:
                    url += "?" + "&".join(quote(k, safe="~") + "=" + quote(v, safe="~") for k, v in case["query"])
                request = AWSRequest(method=case["method"], url=url, data=case["body"].encode())
                auth = S3SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token/+="), "s3", "eu-west-1")
                request.context["timestamp"] = "20261126T093000Z"
                auth._modify_request_before_signing(request)
                canonical = auth.canonical_request(request)
                signature = auth.signature(auth.string_to_sign(request, canonical), request)
                headers = {k.lower(): v for k, v in auth.headers_to_sign(request).items()}
                out.append({"headers": headers, "signature": signature, "canonical": canonical})
            json.dump(out, sys.stdout)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: cases))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python3 with botocore is needed: bash scripts/setup --test installs it")
        let results = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(results.count == cases.count)
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                sessionToken: "session-token/+="), region: "eu-west-1", service: "s3")
        let date = ISO8601DateFormatter().date(from: "2026-11-26T09:30:00Z")!
        for (theirs, ours) in zip(results, cases) {
            let headers = (theirs["headers"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
            let request = SigningRequest(
                method: ours["method"] as! String, path: ours["path"] as! String,
                query: (ours["query"] as! [[String]]).map { (name: $0[0], value: $0[1]) },
                headers: headers, payloadHash: headers.first { $0.name == "x-amz-content-sha256" }?.value ?? "")
            let signed = signer.sign(request, at: date)
            #expect(
                signed.signature == theirs["signature"] as? String,
                "ours:\n\(signed.canonicalRequest)\n\nbotocore:\n\(theirs["canonical"] ?? "")")
        }
    }

    /// An RDS IAM authentication token is botocore's presigned `connect` URL without its scheme:
    /// the same parameters, the session token among the signed ones, and the same signature.
    @Test func databaseTokensAgreeWithBotocore() throws {
        let script = """
            import json
            from urllib.parse import parse_qsl, urlsplit
            from botocore.auth import SigV4QueryAuth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            request = AWSRequest(method="GET", url="https://dw.cluster-abc.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=etl_writer")
            auth = SigV4QueryAuth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token/+="), "rds-db", "eu-west-1", expires=900)
            request.context["timestamp"] = "20261126T093000Z"
            auth._modify_request_before_signing(request)
            canonical = auth.canonical_request(request)
            signature = auth.signature(auth.string_to_sign(request, canonical), request)
            print(json.dumps({"query": dict(parse_qsl(urlsplit(request.url).query)), "signature": signature, "canonical": canonical}))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python3 with botocore is needed: bash scripts/setup --test installs it")
        let theirs = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "session-token/+="),
            region: "eu-west-1", service: "rds-db")
        let token = signer.databaseToken(
            host: "dw.cluster-abc.eu-west-1.rds.amazonaws.com", port: 5432, user: "etl_writer",
            at: ISO8601DateFormatter().date(from: "2026-11-26T09:30:00Z")!)
        let prefix = "dw.cluster-abc.eu-west-1.rds.amazonaws.com:5432/?"
        #expect(token.hasPrefix(prefix), "no scheme, the endpoint with its port: \(token)")
        let components = try #require(URLComponents(string: "https://" + token))
        var ours = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        let signature = ours.removeValue(forKey: "X-Amz-Signature")
        #expect(signature == theirs["signature"] as? String, "botocore signed:\n\(theirs["canonical"] ?? "")")
        #expect(ours == theirs["query"] as? [String: String])
        #expect(ours["X-Amz-Expires"] == "900" && ours["X-Amz-Security-Token"] == "session-token/+=")
    }

    @Test func aWrongSecretGivesADifferentSignature() {
        let request = SigningRequest(
            method: "GET", path: "/", headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: SigningRequest.emptyPayloadHash)
        let right = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "service").sign(request, at: Self.date)
        let wrong = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "not-the-secret"), region: "us-east-1",
            service: "service"
        ).sign(request, at: Self.date)
        #expect(right.signature != wrong.signature)
    }
}
