import CurlHTTP
import DockerEngine
import Foundation
import Testing

@Suite struct QueryEncodingTests {
    @Test("percent-encoding keeps only RFC 3986 unreserved characters", arguments: [
        ("abc-._~XYZ09", "abc-._~XYZ09"),
        ("a b", "a%20b"),
        (#"{"label":["k=v"]}"#, "%7B%22label%22%3A%5B%22k%3Dv%22%5D%7D"),
        ("/data", "%2Fdata"),
        ("a+b&c", "a%2Bb%26c"),
        ("é", "%C3%A9"),
    ])
    func escape(input: String, expected: String) {
        #expect(DockerQuery.escape(input) == expected)
    }

    @Test("nil values are left out; repeated names are kept in order")
    func query() {
        var q: DockerQuery = ["all": "1", "filters": nil, "name": "x y"]
        q.append("changes", "ENV A=1")
        q.append("changes", "LABEL b=2")
        #expect(q.encoded == "?all=1&name=x%20y&changes=ENV%20A%3D1&changes=LABEL%20b%3D2")
        #expect(DockerQuery().encoded == "")
    }

    @Test("filters are a JSON map of string arrays with sorted keys")
    func filters() {
        var f = DockerFilters.label("dev.acp-drill.project", "acp_drill_x")
        f.add("label", "dev.acp-drill.kind")
        f.add("status", "exited")
        #expect(f.json == #"{"label":["dev.acp-drill.project=acp_drill_x","dev.acp-drill.kind"],"status":["exited"]}"#)
        #expect(DockerFilters.label("k").json == #"{"label":["k"]}"#)
    }
}

@Suite struct DockerErrorTests {
    @Test("status → code and the daemon's own message", arguments: [
        (304, "", DockerError.Code.notModified, "HTTP status 304"),
        (400, #"{"message":"Invalid container name (x y)"}"#, .badRequest, "Invalid container name (x y)"),
        (400, "client version 1.11 is too old. Minimum supported API version is 1.12\n", .badRequest,
         "client version 1.11 is too old. Minimum supported API version is 1.12"),
        (403, #"{"message":"error while removing network: network n has active endpoints"}"#, .forbidden,
         "error while removing network: network n has active endpoints"),
        (404, #"{"message":"No such container: x"}"#, .notFound, "No such container: x"),
        (409, #"{"message":"Conflict. The container name \"/x\" is already in use"}"#, .conflict,
         #"Conflict. The container name "/x" is already in use"#),
        (500, #"{"message":"Multiple IDs found with provided prefix: 8"}"#, .serverError, "Multiple IDs found with provided prefix: 8"),
        (503, "", .serverError, "HTTP status 503"),
        (418, "{}", .unexpectedStatus, "{}"),
    ])
    func table(status: Int, body: String, code: DockerError.Code, message: String) {
        let error = DockerError.from(status: status, body: Array(body.utf8), request: "GET /x")
        #expect(error.code == code)
        #expect(error.status == status)
        #expect(error.message == message)
        #expect(error.description == "GET /x: \(status) \(message)")
    }

    @Test("helpers name the common cases")
    func helpers() {
        #expect(DockerError.from(status: 404, body: [], request: "").isNotFound)
        #expect(DockerError.from(status: 409, body: [], request: "").isConflict)
        #expect(DockerError.from(status: 304, body: [], request: "").isNotModified)
    }
}

@Suite struct APIVersionTests {
    @Test("versions order numerically", arguments: [("1.9", "1.41"), ("1.41", "1.44"), ("1.44", "2.0")])
    func order(a: String, b: String) throws {
        #expect(try #require(APIVersion(a)) < #require(APIVersion(b)))
    }

    @Test("garbage is not a version", arguments: ["", "1", "1.x", "v1.41", "1.41.2"])
    func invalid(text: String) { #expect(APIVersion(text) == nil) }
}

/// A fake machine for host resolution: environment variables and a set of files.
func machine(_ vars: [String: String], files: [String: String] = [:], uid: UInt32 = 1000) -> HostEnvironment {
    HostEnvironment(
        variables: vars, home: "/home/u", uid: uid,
        fileExists: { path in files[path] != nil },
        readFile: { path in files[path].map { Data($0.utf8) } },
        listDirectory: { dir in
            let prefix = dir.hasSuffix("/") ? dir : dir + "/"
            return Array(Set(files.keys.filter { $0.hasPrefix(prefix) }.compactMap {
                $0.dropFirst(prefix.count).split(separator: "/").first.map(String.init)
            }))
        })
}

@Suite struct HostResolutionTests {
    static let sockets = [
        "/var/run/docker.sock": "", "/run/user/1000/docker.sock": "", "/run/podman/podman.sock": "",
        "/run/user/1000/podman/podman.sock": "",
    ]

    @Test("DOCKER_HOST forms", arguments: [
        ("unix:///var/run/docker.sock", "unix:///var/run/docker.sock"),
        ("unix:///tmp/x.sock", "unix:///tmp/x.sock"),
        ("tcp://10.0.0.5:2376", "tcp://10.0.0.5:2376"),
        ("tcp://docker.example", "tcp://docker.example:2375"),
        ("tcp://127.0.0.1:2375/", "tcp://127.0.0.1:2375"),
        ("tcp://[::1]:2375", "tcp://[::1]:2375"),
    ])
    func dockerHost(value: String, expected: String) throws {
        let hosts = try DockerHost.candidates(in: machine(["DOCKER_HOST": value], files: Self.sockets))
        #expect(hosts.count == 1, "an explicit DOCKER_HOST is the only candidate")
        #expect(hosts.first?.source == .environment)
        #expect(hosts.first.map { "\($0.endpoint)" } == expected)
    }

    @Test("unusable DOCKER_HOST values are refused with a reason", arguments: [
        ("/var/run/docker.sock", "did you mean unix:///var/run/docker.sock"),
        ("http://localhost:2375", "unsupported address scheme \"http\""),
        ("ssh://me@host", "unsupported address scheme \"ssh\""),
        ("npipe:////./pipe/docker_engine", "unsupported address scheme \"npipe\""),
        ("unix://relative.sock", "must be absolute"),
        ("tcp://host:99999", "invalid port"),
        ("tcp://:2375", "no host"),
    ])
    func invalid(value: String, reason: String) {
        #expect {
            try DockerHost.candidates(in: machine(["DOCKER_HOST": value]))
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH")
    func tls() throws {
        let certs = ["/certs/ca.pem": "", "/certs/cert.pem": "", "/certs/key.pem": ""]
        let verify = try DockerHost.candidates(in: machine(
            ["DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/certs"], files: certs))
        guard case .tls(let host, let port, let files) = verify[0].endpoint.kind else {
            Issue.record("expected TLS, got \(verify[0].endpoint)")
            return
        }
        #expect(host == "h" && port == 2376)
        #expect(files.verifyPeer)
        #expect(files.caCertificate == "/certs/ca.pem" && files.clientKey == "/certs/key.pem")

        let noVerify = try DockerHost.candidates(in: machine(["DOCKER_HOST": "tcp://h:2376", "DOCKER_CERT_PATH": "/certs"], files: certs))
        guard case .tls(_, _, let f2) = noVerify[0].endpoint.kind else { Issue.record("expected TLS"); return }
        #expect(!f2.verifyPeer)

        let home = try DockerHost.candidates(in: machine(
            ["DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1"], files: ["/home/u/.docker/ca.pem": ""]))
        guard case .tls(_, _, let f3) = home[0].endpoint.kind else { Issue.record("expected TLS"); return }
        #expect(f3.caCertificate == "/home/u/.docker/ca.pem" && f3.clientCertificate == nil)

        let plain = try DockerHost.candidates(in: machine(["DOCKER_HOST": "tcp://h:2375", "DOCKER_TLS_VERIFY": ""]))
        #expect("\(plain[0].endpoint)" == "tcp://h:2375")
    }

    static let contextFiles = [
        "/home/u/.docker/config.json": #"{"auths":{},"currentContext":"remote"}"#,
        "/home/u/.docker/contexts/meta/abc123/meta.json":
            #"{"Name":"remote","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.1.2.3:2376","SkipTLSVerify":false}}}"#,
        "/home/u/.docker/contexts/tls/abc123/docker/ca.pem": "",
        "/home/u/.docker/contexts/meta/def456/meta.json":
            #"{"Name":"colima","Endpoints":{"docker":{"Host":"unix:///home/u/.colima/docker.sock"}}}"#,
        "/var/run/docker.sock": "",
    ]

    @Test("the CLI's current context, and DOCKER_CONTEXT over it")
    func contexts() throws {
        let current = try DockerHost.candidates(in: machine([:], files: Self.contextFiles))
        #expect(current.count == 1)
        #expect(current[0].source == .context("remote"))
        guard case .tls(let host, 2376, let files) = current[0].endpoint.kind else {
            Issue.record("expected TLS from the context's tls folder, got \(current[0].endpoint)")
            return
        }
        #expect(host == "10.1.2.3" && files.verifyPeer)

        let chosen = try DockerHost.candidates(in: machine(["DOCKER_CONTEXT": "colima"], files: Self.contextFiles))
        #expect("\(chosen[0].endpoint)" == "unix:///home/u/.colima/docker.sock")

        let viaDefault = try DockerHost.candidates(in: machine(["DOCKER_CONTEXT": "default"], files: Self.contextFiles))
        #expect(viaDefault.map(\.source) == [.defaultSocket])

        #expect(throws: DockerHostError.self) {
            try DockerHost.candidates(in: machine(["DOCKER_CONTEXT": "missing"], files: Self.contextFiles))
        }
        // DOCKER_HOST wins over any context.
        let env = try DockerHost.candidates(in: machine(["DOCKER_HOST": "unix:///x.sock"], files: Self.contextFiles))
        #expect(env.map(\.source) == [.environment])
    }

    @Test("with nothing configured, the sockets that exist, in order")
    func discovery() throws {
        let all = try DockerHost.candidates(in: machine([:], files: Self.sockets))
        #expect(all.map(\.source) == [.defaultSocket, .rootlessSocket, .podmanSocket, .podmanSocket])
        #expect(all.map { "\($0.endpoint)" } == [
            "unix:///var/run/docker.sock", "unix:///run/user/1000/docker.sock", "unix:///run/podman/podman.sock",
            "unix:///run/user/1000/podman/podman.sock",
        ])
        let xdg = try DockerHost.candidates(in: machine(["XDG_RUNTIME_DIR": "/xdg"], files: ["/xdg/podman/podman.sock": ""]))
        #expect(xdg.map { "\($0.endpoint)" } == ["unix:///xdg/podman/podman.sock"])
        #expect(try DockerHost.candidates(in: machine([:])).isEmpty)
        let flag = try DockerHost.candidates(flag: "unix:///flag.sock", in: machine(["DOCKER_HOST": "tcp://h:1"]))
        #expect(flag.map(\.source) == [.flag])
    }
}
