/// The header extension of an RTP packet (RFC 3550 §5.3.1, RFC 8285 §4): a view into the packet.
public struct RTPHeaderExtension {
    /// The 16-bit "defined by profile" field: 0xBEDE for one-byte elements, 0x100X for two-byte.
    public let profile: UInt16
    /// The extension data after the 4-byte extension header, a multiple of 4 bytes long.
    public let data: UnsafeRawBufferPointer

    /// Creates a view over extension `data` with the given `profile`.
    public init(profile: UInt16, data: UnsafeRawBufferPointer) {
        self.profile = profile
        self.data = data
    }

    /// The RFC 8285 §4.2 one-byte header profile value.
    public static let oneByteProfile: UInt16 = 0xBEDE
    /// The RFC 8285 §4.3 two-byte header profile value with the four "appbits" zero.
    public static let twoByteProfile: UInt16 = 0x1000

    /// True for the RFC 8285 one-byte form.
    public var isOneByte: Bool { profile == RTPHeaderExtension.oneByteProfile }
    /// True for the RFC 8285 two-byte form (any appbits).
    public var isTwoByte: Bool { profile & 0xFFF0 == RTPHeaderExtension.twoByteProfile }

    /// The RFC 8285 elements; empty for a generic (non-8285) extension, whose bytes stay in `data`.
    ///
    /// Iteration does not allocate; it stops at the first element that would overrun the data.
    public var elements: RTPHeaderExtensionElements {
        let form: RTPHeaderExtensionElements.Form = isOneByte ? .oneByte : (isTwoByte ? .twoByte : .none)
        return RTPHeaderExtensionElements(data: data, form: form)
    }

    /// The data of the first element with `id`, or nil. Costs O(number of elements).
    public func element(id: UInt8) -> UnsafeRawBufferPointer? {
        for element in elements where element.id == id { return element.data }
        return nil
    }
}

/// One RFC 8285 extension element: a local identifier and its data.
public struct RTPHeaderExtensionElement {
    /// The local identifier: 1...14 in the one-byte form, 1...255 in the two-byte form.
    public var id: UInt8
    /// The element's bytes: 1...16 in the one-byte form, 0...255 in the two-byte form.
    public var data: UnsafeRawBufferPointer

    /// Creates an element; `data` is borrowed from the caller.
    public init(id: UInt8, data: UnsafeRawBufferPointer) {
        self.id = id
        self.data = data
    }
}

/// A non-allocating iterator over RFC 8285 elements.
public struct RTPHeaderExtensionElements: Sequence, IteratorProtocol {
    enum Form { case none, oneByte, twoByte }
    let data: UnsafeRawBufferPointer
    let form: Form
    var offset = 0

    init(data: UnsafeRawBufferPointer, form: Form) {
        self.data = data
        self.form = form
    }

    /// The next element, skipping padding bytes.
    public mutating func next() -> RTPHeaderExtensionElement? {
        switch form {
        case .none:
            return nil
        case .oneByte:
            while offset < data.count {
                let b = data.u8(offset)
                let id = b >> 4
                // RFC 8285 §4.2: a zero byte is padding; ID 15 is reserved and ends processing.
                // ID 0 with a non-zero length is malformed padding; stop there too, as libwebrtc does.
                if b == 0 { offset += 1; continue }
                if id == 15 || id == 0 { offset = data.count; return nil }
                let length = Int(b & 0x0F) + 1
                let start = offset + 1
                guard start + length <= data.count else { offset = data.count; return nil }
                offset = start + length
                return RTPHeaderExtensionElement(id: id, data: data.slice(start, start + length))
            }
            return nil
        case .twoByte:
            while offset < data.count {
                let id = data.u8(offset)
                // RFC 8285 §4.3: an ID of zero is a single padding byte.
                if id == 0 { offset += 1; continue }
                guard offset + 2 <= data.count else { offset = data.count; return nil }
                let length = Int(data.u8(offset + 1))
                let start = offset + 2
                guard start + length <= data.count else { offset = data.count; return nil }
                offset = start + length
                return RTPHeaderExtensionElement(id: id, data: data.slice(start, start + length))
            }
            return nil
        }
    }
}
