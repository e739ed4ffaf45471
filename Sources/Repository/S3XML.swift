import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// S3's XML replies, read with an XML parser (entities, CDATA and namespaces handled by the parser, not
/// by substring search): error documents, `InitiateMultipartUploadResult` and `ListBucketResult`.
public enum XMLValues {
    /// The text of the first element named `element` anywhere in the document.
    public static func first(_ element: String, in body: [UInt8]) -> String? {
        parse(body).first { $0.path.last == element }?.text
    }

    /// A `ListObjectsV2` page: keys with sizes, common prefixes, and the continuation token.
    public static func listing(_ body: [UInt8]) -> (keys: [(String, Int64)], prefixes: [String], truncated: Bool, nextToken: String?) {
        var keys: [(String, Int64)] = []
        var prefixes: [String] = []
        var truncated = false
        var token: String?
        var key: String?
        var size: Int64 = 0
        for leaf in parse(body) {
            switch (leaf.path.dropLast().last, leaf.path.last) {
            case ("Contents", "Key"): key = leaf.text
            case ("Contents", "Size"): size = Int64(leaf.text) ?? 0
            case ("CommonPrefixes", "Prefix"): prefixes.append(leaf.text)
            case (_, "IsTruncated") where leaf.path.count == 2: truncated = leaf.text == "true"
            case (_, "NextContinuationToken") where leaf.path.count == 2: token = leaf.text
            default: break
            }
            if leaf.path.last == "Contents", let k = key {
                keys.append((k, size))
                key = nil
                size = 0
            }
        }
        return (keys, prefixes, truncated, token)
    }

    /// An element closed in document order: its path from the root (`["ListBucketResult", "Contents",
    /// "Key"]`) and its text.
    struct Leaf {
        var path: [String]
        var text: String
    }

    static func parse(_ body: [UInt8]) -> [Leaf] {
        let reader = Reader()
        let parser = XMLParser(data: Data(body))
        parser.delegate = reader
        parser.shouldProcessNamespaces = true
        _ = parser.parse()
        return reader.leaves
    }

    final class Reader: NSObject, XMLParserDelegate {
        var stack: [(name: String, text: String)] = []
        var leaves: [Leaf] = []

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            stack.append((name, ""))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !stack.isEmpty { stack[stack.count - 1].text += string }
        }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            if !stack.isEmpty { stack[stack.count - 1].text += String(decoding: block, as: UTF8.self) }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let top = stack.popLast() else { return }
            leaves.append(Leaf(path: stack.map(\.name) + [top.name], text: top.text))
        }
    }
}
