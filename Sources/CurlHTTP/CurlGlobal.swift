import CCurl

/// Process-wide libcurl state: `curl_global_init` once, and what this libcurl supports.
public enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    /// Calls `curl_global_init` once per process (thread-safe in libcurl ≥ 7.84 with the threadsafe feature).
    public static func ensureInitialized() {
        _ = initialized
    }

    /// libcurl's version string (`7.88.1`).
    public static var version: String {
        String(cString: ccurl_version_info().pointee.version)
    }

    /// Whether this libcurl can talk over unix sockets (`CURLOPT_UNIX_SOCKET_PATH`).
    public static var supportsUnixSockets: Bool { ccurl_version_feature_unix_sockets() != 0 }
}
