import CCurl

/// An owned libcurl easy handle. Not thread-safe: one transfer at a time, on one thread; the client's pool
/// hands it from thread to thread. Reusing the handle reuses its live connection.
final class CurlEasy: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    /// The multi handle that drives this easy handle's transfers (its connection cache survives between them).
    let multi: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// Storage for `CURLOPT_ERRORBUFFER` (CURL_ERROR_SIZE bytes).
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: 256)

    init() {
        CurlGlobal.ensureInitialized()
        guard let h = curl_easy_init(), let m = curl_multi_init() else { fatalError("curl_easy_init failed: out of memory") }
        handle = h
        multi = m
    }

    deinit {
        curl_multi_cleanup(multi)
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    /// Clears all options (the connection cache survives) before the next transfer.
    func reset() {
        curl_easy_reset(handle)
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        errorBuffer[0] = 0
    }

    func set(_ option: CURLoption, _ value: Int) { _ = ccurl_setopt_long(handle, option, value) }
    func set(_ option: CURLoption, offset value: Int64) { _ = ccurl_setopt_off(handle, option, curl_off_t(value)) }
    func set(_ option: CURLoption, _ value: String) { _ = ccurl_setopt_str(handle, option, value) }
    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) { _ = ccurl_setopt_ptr(handle, option, pointer) }
    func set(_ option: CURLoption, callback: ccurl_io_cb) { _ = ccurl_setopt_io(handle, option, callback) }

    /// Replaces the request headers (the list lives until the next `reset` or `deinit`).
    func setHeaders(_ headers: [(name: String, value: String)]) {
        if let headerList { curl_slist_free_all(headerList) }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers {
            // "Name:" with nothing after it removes a header libcurl would add (Expect, Content-Type).
            let line = value.isEmpty ? "\(name):" : "\(name): \(value)"
            list = curl_slist_append(list, line)
        }
        headerList = list
        _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
    }

    func infoLong(_ info: CURLINFO) -> Int {
        var value = 0
        _ = ccurl_getinfo_long(handle, info, &value)
        return value
    }

    /// Applies where to connect: the unix socket path or TLS files. The URL is set by the caller.
    func apply(_ endpoint: HTTPEndpoint) {
        switch endpoint.kind {
        case .unixSocket(let path):
            set(CURLOPT_UNIX_SOCKET_PATH, path)
        case .tcp, .url:
            break
        case .tls(_, _, let files):
            if let ca = files.caCertificate { set(CURLOPT_CAINFO, ca) }
            if let cert = files.clientCertificate { set(CURLOPT_SSLCERT, cert) }
            if let key = files.clientKey { set(CURLOPT_SSLKEY, key) }
            if !files.verifyPeer {
                set(CURLOPT_SSL_VERIFYPEER, 0)
                set(CURLOPT_SSL_VERIFYHOST, 0)
            }
        }
    }

    /// libcurl's message for the last failure: the error buffer when it has text, else `curl_easy_strerror`.
    func message(for code: CURLcode) -> String {
        if errorBuffer[0] != 0 { return String(cString: errorBuffer) }
        return String(cString: curl_easy_strerror(code))
    }
}

/// `curl_multi_wakeup` from any thread (a raw pointer is not Sendable; this handle outlives every waker call).
struct MultiWaker: @unchecked Sendable {
    let multi: UnsafeMutableRawPointer
    func wake() { _ = curl_multi_wakeup(multi) }
}

extension CurlEasy {
    /// Runs the configured transfer through the multi handle until it completes or `cancel` is set.
    /// - Returns: the transfer's result code (`CURLE_ABORTED_BY_CALLBACK` when cancelled).
    func performInterruptibly(cancel: CancellationFlag) -> CURLcode {
        guard curl_multi_add_handle(multi, handle) == CURLM_OK else { return curl_easy_perform(handle) }
        let waker = MultiWaker(multi: multi)
        cancel.setWaker(waker)
        defer {
            cancel.clearWaker()
            curl_multi_remove_handle(multi, handle)
        }
        var running: Int32 = 1
        while true {
            if cancel.isCancelled { return CURLE_ABORTED_BY_CALLBACK }
            guard curl_multi_perform(multi, &running) == CURLM_OK else { return CURLE_FAILED_INIT }
            if running == 0 { break }
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            if msg.pointee.msg == CURLMSG_DONE { return msg.pointee.data.result }
        }
        return CURLE_OK
    }
}
