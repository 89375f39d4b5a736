import CBatchIO

/// Facts about the CPUs the engine's workers run on.
public enum HostCPU {
    /// CPUs this process may run on (its affinity mask), at least 1.
    public static var availableCount: Int { max(1, Int(tdm_available_cpus())) }
}
