/// Why a tone description string (see `ToneSequence`) could not be parsed.
///
/// Offsets count Unicode scalars from the start of the description.
public enum ToneDescriptionError: Error, Equatable, Sendable {
    /// The description is empty or holds only spaces.
    case empty
    /// The description is longer than `ToneSequence.maximumDescriptionLength` characters.
    case tooLong
    /// A character that the grammar does not allow at this point.
    case unexpectedCharacter(offset: Int)
    /// A frequency that is not a number in `ToneSequence.frequencyRange`.
    case invalidFrequency(offset: Int)
    /// A gain that is not 0 or a number in 0.001 … 1.
    case invalidGain(offset: Int)
    /// A duration that is not a whole number of milliseconds in 1 … `ToneSequence.maximumDurationMilliseconds`.
    case invalidDuration(offset: Int)
    /// More than `ToneSequence.maximumFrequencies` frequencies in one segment.
    case tooManyFrequencies(offset: Int)
    /// More than `ToneSequence.maximumSegments` segments.
    case tooManySegments
    /// A segment without a duration (continuous) is followed by another segment.
    case continuousSegmentNotLast(offset: Int)
}

/// Why a tone or DTMF generator or detector could not be set up, or a request was refused.
public enum ToneError: Error, Equatable, Sendable {
    /// The sampling rate is not one the generator or detector supports.
    case unsupportedSampleRate(Int)
    /// A character that is not a DTMF digit (0-9, *, #, A-D).
    case invalidDigit(Character)
    /// An RFC 4733 event code outside 0 … 15 (only DTMF events are played).
    case unsupportedEventCode(Int)
    /// A duration or level outside the accepted range.
    case invalidParameter
    /// The request needs more segments than a generator holds.
    case tooManySegments
}
