/// The Tandem release this build reports in `--version`, `/health` and the `tandem_build_info` metric.
public enum TandemVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"
}
