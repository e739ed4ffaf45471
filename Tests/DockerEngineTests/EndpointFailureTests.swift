import CCurl
import Foundation
import Testing
@testable import CurlHTTP

@Suite struct EndpointFailureTests {
    static let missing = "/tmp/acp-drill-no-such-socket-\(getpid()).sock"

    @Test func aMissingSocketIsNamedNotLocalhost() {
        let e = HTTPEndpoint.unixSocket(Self.missing)
        let text = e.explain(CURLE_COULDNT_CONNECT, libcurl: "Failed to connect to localhost port 80 after 0 ms: Couldn't connect to server")
        #expect(text == "no socket at unix://\(Self.missing): the server is not running")
    }

    @Test func aSocketThatRefusesOrCutsIsSaidSo() throws {
        let path = "/tmp/acp-drill-refusing-\(getpid()).sock"
        FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let e = HTTPEndpoint.unixSocket(path)
        #expect(e.explain(CURLE_COULDNT_CONNECT, libcurl: "Failed to connect to localhost port 80").hasSuffix("refuses connections: the server is not answering"))
        let cut = e.explain(CURLE_RECV_ERROR, libcurl: "Recv failure: Connection reset by peer")
        #expect(cut.hasPrefix("unix://\(path) cut the connection") && cut.contains("Connection reset by peer"))
        #expect(!e.explain(CURLE_GOT_NOTHING, libcurl: "Empty reply from server localhost port 80").contains("localhost port 80"))
    }

    @Test func otherEndpointsKeepLibcurlsWords() {
        let e = HTTPEndpoint(.tcp(host: "127.0.0.1", port: 2375))
        #expect(e.explain(CURLE_COULDNT_CONNECT, libcurl: "Failed to connect to 127.0.0.1 port 2375") == "Failed to connect to 127.0.0.1 port 2375")
    }
}
