/// Plays a decoded frame as is, or, after a synthetic frame (concealment, stretch, comfort noise, silence),
/// merges into it: a crossfade from the synthetic continuation into the decoded audio so there is no click.
/// Caller-owned buffers; no allocation.
public struct Normal: Sendable {
    /// Crossfade length after a synthetic frame, samples.
    public let mergeLength: Int

    /// A pass-through with a merge of `mergeLength` samples.
    public init(mergeLength: Int) { self.mergeLength = max(1, mergeLength) }

    /// Copies `decoded` to `output`; if `continuation` is non-empty, crossfades from it over the first samples.
    public func process(decoded: UnsafeBufferPointer<Int16>, continuation: UnsafeBufferPointer<Int16>, output: UnsafeMutableBufferPointer<Int16>) {
        guard let out = output.baseAddress else { return }
        let n = min(decoded.count, output.count)
        guard let d = decoded.baseAddress else {
            out.update(repeating: 0, count: output.count)
            return
        }
        out.update(from: d, count: n)
        if n < output.count { (out + n).update(repeating: 0, count: output.count - n) }
        let m = min(mergeLength, continuation.count, n)
        if m > 0, let c = continuation.baseAddress { JitterDSPMath.crossfade(c, d, into: out, count: m) }
    }
}
