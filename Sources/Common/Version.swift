/// The one version of acp-drill: written into every label, manifest and report, and printed by `--version`.
public enum ToolVersion {
    public static let current = "0.1.0"
}
