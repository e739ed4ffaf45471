import CCurl
import Foundation

extension HTTPEndpoint {
    /// libcurl's message for a failed transfer, said in the endpoint's own terms. For a unix socket libcurl
    /// names "localhost port 80" (the placeholder host of the URL): the message names the socket instead,
    /// and whether it is missing (the server is not running), refuses connections, or cut the connection
    /// (the server stopped answering).
    func explain(_ code: CURLcode, libcurl message: String) -> String {
        guard case .unixSocket(let path) = kind else { return message }
        switch code {
        case CURLE_COULDNT_CONNECT:
            return FileManager.default.fileExists(atPath: path)
                ? "unix://\(path) refuses connections: the server is not answering"
                : "no socket at unix://\(path): the server is not running"
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            return "unix://\(path) cut the connection: the server stopped answering (\(Self.withoutPlaceholderHost(message)))"
        default:
            return Self.withoutPlaceholderHost(message)
        }
    }

    /// libcurl's text with the unix socket URL's placeholder host left out.
    static func withoutPlaceholderHost(_ message: String) -> String {
        message.replacingOccurrences(of: " to localhost port 80", with: "").replacingOccurrences(of: "localhost port 80", with: "the socket")
    }
}
