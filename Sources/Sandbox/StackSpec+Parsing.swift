import Common
public import Foundation
import Yams

extension StackSpec {
    /// Capabilities a service may add back after all are dropped. Anything that reaches the host, the
    /// network stack or other processes (SYS_ADMIN, NET_ADMIN, NET_RAW, SYS_PTRACE, ALL, …) is refused.
    public static let capabilityAllowList: Set<String> = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "NET_BIND_SERVICE", "SYS_CHROOT", "AUDIT_WRITE", "SYS_NICE", "SYS_RESOURCE",
    ]

    /// Keys refused because they would break isolation, with the reason given to the user.
    static let forbiddenServiceKeys: [String: String] = [
        "ports": "a sandbox publishes no ports (its network is internal)",
        "expose": "a sandbox publishes no ports (its network is internal)",
        "network_mode": "a sandbox service joins only the sandbox's own internal network",
        "networks": "a sandbox service joins only the sandbox's own internal network",
        "privileged": "privileged containers can reach the host",
        "pid": "sharing a PID namespace breaks isolation",
        "ipc": "sharing an IPC namespace breaks isolation",
        "userns_mode": "changing the user namespace breaks isolation",
        "uts": "sharing the host's UTS namespace breaks isolation",
        "devices": "host devices break isolation",
        "security_opt": "security options (seccomp/apparmor unconfined) break isolation",
        "extra_hosts": "extra host entries could point the sandbox at production",
        "dns": "custom DNS servers could resolve production names",
        "dns_search": "custom DNS search domains could resolve production names",
        "sysctls": "sysctls change the kernel's behaviour",
        "volumes_from": "sharing another container's volumes shares its state",
        "links": "links reach containers outside the sandbox",
        "external_links": "links reach containers outside the sandbox",
        "build": "the sandbox runs existing images only (no builds)",
        "cgroup_parent": "a custom cgroup parent escapes the sandbox's limits",
        "container_name": "the sandbox names containers <project>-<service>-1 (a fixed name would collide)",
        "secrets": "secrets are bind-mounted host files",
        "configs": "configs are bind-mounted host files",
        "env_file": "environment files are read from the host; write the values in environment",
    ]

    /// Parses a stack file (the documented Compose subset) and applies the isolation policy. Nothing is
    /// created by parsing: a refused key is an error naming it and its line.
    /// - Parameter variables: values for `${NAME}` / `${NAME:-default}` interpolation (`$$` is a `$`).
    public static func parse(yaml: String, file: String? = nil, variables: [String: String] = [:]) throws -> StackSpec {
        do {
            return try Parser(variables: variables).stack(yaml: yaml)
        } catch var error as SpecError {
            error.file = file
            throw error
        } catch {
            throw SpecError(message: "not valid YAML: \(error)", line: nil, file: file)
        }
    }

    /// Reads and parses a stack file.
    public static func load(path: String, variables: [String: String]) throws -> StackSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpecError(message: "cannot read the stack file", line: nil, file: path)
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), file: path, variables: variables)
    }
}

private struct Parser {
    let variables: [String: String]

    func fail(_ message: String, _ node: Node?) -> SpecError { SpecError(message: message, line: node?.mark?.line) }

    func stack(yaml: String) throws -> StackSpec {
        guard let root = try Yams.compose(yaml: yaml), let top = root.mapping else {
            throw SpecError(message: "the stack file must be a mapping with a services key", line: 1)
        }
        var services: [ServiceSpec] = []
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            switch key {
            case "services":
                guard let mapping = value.mapping else { throw fail("services must be a mapping", value) }
                for (nameNode, body) in mapping {
                    services.append(try service(name: nameNode.string ?? "", node: body, nameNode: nameNode))
                }
            case "version", "name": continue
            case "volumes":
                if let m = value.mapping, !m.isEmpty {
                    throw fail("top-level volumes (named volumes) are shared state: use anonymous volumes (- /path) in the service", keyNode)
                }
            case "networks":
                throw fail("top-level networks: a sandbox has exactly one network of its own, internal; networks cannot be declared", keyNode)
            case "secrets", "configs":
                throw fail("\(key): bind-mounted host files are not allowed in a sandbox", keyNode)
            default:
                if key.hasPrefix("x-") { continue }
                throw fail("unsupported top-level key \"\(key)\"", keyNode)
            }
        }
        guard !services.isEmpty else { throw SpecError(message: "the stack has no services", line: top.mark?.line) }
        let spec = StackSpec(services: services)
        _ = try spec.startOrder()
        return spec
    }

    func service(name: String, node: Node, nameNode: Node) throws -> ServiceSpec {
        guard name.range(of: #"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"#, options: .regularExpression) != nil else {
            throw fail("service name \"\(name)\" must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", nameNode)
        }
        guard let body = node.mapping else { throw fail("service \"\(name)\" must be a mapping", node) }
        guard let imageNode = body["image"], let image = try scalar(imageNode, "image") else {
            throw fail("service \"\(name)\" has no image", nameNode)
        }
        var role: ServiceRole?
        var service = ServiceSpec(name: name, image: image)
        service.line = nameNode.mark?.line
        for (keyNode, value) in body {
            let key = keyNode.string ?? ""
            if let reason = StackSpec.forbiddenServiceKeys[key] {
                throw fail("service \"\(name)\": \(key) is not allowed: \(reason)", keyNode)
            }
            switch key {
            case "image": continue
            case "environment": service.environment = try environment(value)
            case "command": service.command = try command(value, key)
            case "entrypoint": service.entrypoint = try command(value, key)
            case "healthcheck": service.healthcheck = try healthcheck(value)
            case "tmpfs": service.tmpfs = try stringList(value, key)
            case "shm_size": service.shmSize = try size(value, key)
            case "mem_limit": service.memLimit = try size(value, key)
            case "depends_on":
                if let m = value.mapping {
                    service.dependsOn = m.keys.compactMap(\.string)
                } else {
                    service.dependsOn = try stringList(value, key)
                }
            case "labels": service.labels = try stringMap(value, key)
            case "volumes": service.volumes = try volumes(value, service: name)
            case "cap_add":
                let caps = try stringList(value, key).map { $0.uppercased().replacingOccurrences(of: "CAP_", with: "") }
                if let bad = caps.first(where: { !StackSpec.capabilityAllowList.contains($0) }) {
                    throw fail("service \"\(name)\": cap_add \(bad) is not allowed (allowed: \(StackSpec.capabilityAllowList.sorted().joined(separator: ", ")))", keyNode)
                }
                service.capAdd = caps
            case "cap_drop": continue  // every capability is dropped anyway
            case "user": service.user = try scalar(value, key)
            case "working_dir": service.workingDir = try scalar(value, key)
            case "restart":
                let policy = try scalar(value, key) ?? "no"
                guard ["no", "\"no\""].contains(policy) else {
                    throw fail("service \"\(name)\": restart \(policy) is not supported: a sandbox never restarts a service", keyNode)
                }
            case "x-acp-drill-role":
                guard let r = try scalar(value, key).flatMap(ServiceRole.init(rawValue:)) else {
                    throw fail("x-acp-drill-role must be postgres, redis or app", value)
                }
                role = r
            default:
                if key.hasPrefix("x-") { continue }
                throw fail("service \"\(name)\": unsupported key \"\(key)\"", keyNode)
            }
        }
        if let role { service.role = role }
        return service
    }

    func volumes(_ node: Node, service: String) throws -> [String] {
        guard let seq = node.sequence else { throw fail("volumes must be a list", node) }
        var paths: [String] = []
        for item in seq {
            if let m = item.mapping {
                let type = m["type"]?.string ?? "volume"
                guard type == "volume" || type == "tmpfs" else {
                    throw fail("service \"\(service)\": a \(type) mount is not allowed: only anonymous volumes (a bind mount reaches the host)", item)
                }
                if m["source"] != nil {
                    throw fail("service \"\(service)\": a named volume (source) is shared state: give only a target", item)
                }
                guard let target = m["target"]?.string, target.hasPrefix("/") else {
                    throw fail("service \"\(service)\": a volume needs an absolute target", item)
                }
                paths.append(target)
                continue
            }
            guard let text = try scalar(item, "volumes") else { continue }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 1, text.hasPrefix("/") { paths.append(text); continue }
            let source = parts[0]
            if source.hasPrefix("/") || source.hasPrefix(".") || source.hasPrefix("~") || source.hasPrefix("$") {
                throw fail("service \"\(service)\": bind mount \"\(text)\" is not allowed: it reaches the host's files", item)
            }
            throw fail("service \"\(service)\": named volume \"\(source)\" is not allowed: it is shared state; write only the container path (- /path)", item)
        }
        return paths
    }

    func healthcheck(_ node: Node) throws -> HealthcheckSpec? {
        guard let m = node.mapping else { throw fail("healthcheck must be a mapping", node) }
        if m["disable"]?.bool == true { return HealthcheckSpec(test: ["NONE"]) }
        guard let testNode = m["test"] else { throw fail("healthcheck needs a test", node) }
        var test: [String]
        if let s = try? scalar(testNode, "test") { test = ["CMD-SHELL", s] } else { test = try stringList(testNode, "test") }
        if let first = test.first, !["CMD", "CMD-SHELL", "NONE"].contains(first) { test.insert("CMD", at: 0) }
        return HealthcheckSpec(
            test: test, interval: try m["interval"].map { try duration($0) }, timeout: try m["timeout"].map { try duration($0) },
            retries: m["retries"]?.int, startPeriod: try m["start_period"].map { try duration($0) })
    }

    func environment(_ node: Node) throws -> [(name: String, value: String)] {
        if let m = node.mapping {
            return try m.map { k, v in (k.string ?? "", try scalar(v, "environment") ?? "") }
        }
        return try stringList(node, "environment").map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : (variables[parts[0]] ?? ""))
        }
    }

    func command(_ node: Node, _ key: String) throws -> [String] {
        if node.sequence != nil { return try stringList(node, key) }
        guard let text = try scalar(node, key) else { return [] }
        return try ShellWords.split(text, line: node.mark?.line)
    }

    func stringList(_ node: Node, _ key: String) throws -> [String] {
        if let seq = node.sequence { return try seq.compactMap { try scalar($0, key) } }
        if let s = try scalar(node, key) { return [s] }
        throw fail("\(key) must be a string or a list", node)
    }

    func stringMap(_ node: Node, _ key: String) throws -> [String: String] {
        if let m = node.mapping {
            var out: [String: String] = [:]
            for (k, v) in m { out[k.string ?? ""] = try scalar(v, key) ?? "" }
            return out
        }
        var out: [String: String] = [:]
        for item in try stringList(node, key) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            out[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return out
    }

    /// A scalar with `${VAR}` interpolation; a mapping or list where a scalar belongs is an error.
    func scalar(_ node: Node, _ key: String) throws -> String? {
        guard node.mapping == nil, node.sequence == nil else { throw fail("\(key) must be a single value", node) }
        guard let raw = node.string else { return nil }
        return try interpolate(raw, line: node.mark?.line)
    }

    func interpolate(_ text: String, line: Int?) throws -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            guard c == "$" else { out.append(c); i = text.index(after: i); continue }
            let next = text.index(after: i)
            if next < text.endIndex, text[next] == "$" { out.append("$"); i = text.index(after: next); continue }
            guard next < text.endIndex, text[next] == "{", let close = text[next...].firstIndex(of: "}") else {
                out.append(c); i = next; continue
            }
            let expr = String(text[text.index(after: next) ..< close])
            if let r = expr.range(of: ":-") {
                let name = String(expr[..<r.lowerBound])
                let value = variables[name] ?? ""
                out += value.isEmpty ? String(expr[r.upperBound...]) : value
            } else if let value = variables[expr] {
                out += value
            } else {
                throw SpecError(message: "variable \(expr) is not set (write ${\(expr):-default} for a default)", line: line)
            }
            i = text.index(after: close)
        }
        return out
    }

    func size(_ node: Node, _ key: String) throws -> Int64 {
        guard let text = try scalar(node, key)?.lowercased().trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            throw fail("\(key) needs a size", node)
        }
        let units: [(String, Int64)] = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("b", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let v = Double(text.dropLast(suffix.count)) { return Int64(v * Double(factor)) }
        }
        if let v = Int64(text) { return v }
        throw fail("\(key): \"\(text)\" is not a size (e.g. 512m, 1g)", node)
    }

    func duration(_ node: Node) throws -> Duration {
        guard let text = try scalar(node, "duration") else { throw fail("a duration is required", node) }
        guard let d = DurationText.parse(text) else { throw fail("\"\(text)\" is not a duration (\(DurationText.examples))", node) }
        return d
    }
}

/// Splits a command string the way Compose does (POSIX shell quoting, no expansion).
enum ShellWords {
    static func split(_ text: String, line: Int?) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for ch in text {
            if escaped { current.append(ch); escaped = false; continue }
            if ch == "\\" && quote != "'" { escaped = true; inWord = true; continue }
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
                continue
            }
            if ch == "'" || ch == "\"" { quote = ch; inWord = true; continue }
            if ch == " " || ch == "\t" || ch == "\n" {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            current.append(ch)
            inWord = true
        }
        guard quote == nil else { throw SpecError(message: "unterminated quote in command", line: line) }
        if inWord { words.append(current) }
        return words
    }
}
