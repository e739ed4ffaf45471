/// Discussion text for `--help`: prose lines written at source width are joined into paragraphs, so that
/// ArgumentParser wraps them to the terminal instead of breaking each source line in two. Indented lines
/// (examples, tables) and blank lines are kept as written.
func prose(_ text: String) -> String {
    var out: [String] = []
    var paragraph: [String] = []
    func flush() {
        if !paragraph.isEmpty { out.append(paragraph.joined(separator: " ")) }
        paragraph = []
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if line.isEmpty || line.hasPrefix(" ") {
            flush()
            out.append(line)
        } else if line.hasSuffix(":") {
            paragraph.append(line)
            flush()
        } else {
            paragraph.append(line)
        }
    }
    flush()
    return out.joined(separator: "\n")
}
