/// A Prometheus textfile (node_exporter's textfile collector format), built metric by metric: the drill's
/// and the deploy gate's.
struct PrometheusText {
    private(set) var lines: [String] = []

    /// A label value, escaped as the format wants.
    static func label(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    mutating func metric(_ name: String, _ help: String, _ samples: [(String, Double)], type: String = "gauge") {
        lines.append("# HELP \(name) \(help)")
        lines.append("# TYPE \(name) \(type)")
        for (labels, value) in samples {
            lines.append("\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value))")
        }
    }

    var text: String { lines.joined(separator: "\n") + "\n" }
}
