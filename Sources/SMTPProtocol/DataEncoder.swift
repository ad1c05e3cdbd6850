/// Line-end normalisation and dot-stuffing for message data: the only place in sealmail where
/// either happens (RFC 5321 4.5.2 transparency, 2.3.8 lines end in CRLF).
///
/// Streaming: feed arbitrary chunks, get output bytes back. Every CRLF, bare LF and bare CR in
/// the input becomes one CRLF line end, so no bare CR or LF reaches the wire (the 2023 "SMTP
/// smuggling" attacks rely on servers that accept `\n.\n` or `\r.\r` as the end of data).
/// With `stuffDots` (DATA), every line starting with '.' gets a second '.' and `finish()`
/// appends the `.` CRLF terminator; without it (BDAT, RFC 3030) nothing is stuffed or appended.
public struct DataEncoder: Sendable {
    /// Whether lines are dot-stuffed and terminated (DATA) or not (BDAT).
    public let stuffDots: Bool
    private var atLineStart = true
    private var pendingCR = false
    /// Input octets seen so far.
    public private(set) var inputCount: Int64 = 0

    /// Creates an encoder for DATA (`stuffDots: true`) or BDAT (`false`).
    public init(stuffDots: Bool) {
        self.stuffDots = stuffDots
    }

    /// Encodes one chunk, appending to `output`.
    public mutating func encode<C: Collection>(_ input: C, into output: inout [UInt8]) where C.Element == UInt8 {
        // Called from other modules this generic is not specialised: hand the bytes to the
        // concrete loop below at once (a byte-by-byte generic loop was most of a queue run).
        if input.withContiguousStorageIfAvailable({ encode(buffer: $0, into: &output) }) != nil { return }
        let copy = Array(input)
        copy.withUnsafeBufferPointer { encode(buffer: $0, into: &output) }
    }

    /// Encodes one chunk of contiguous bytes: runs of bytes between line ends are copied whole.
    public mutating func encode(buffer input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        inputCount += Int64(input.count)
        output.reserveCapacity(output.count + input.count + input.count / 32 + 8)
        let n = input.count
        var i = 0
        while i < n {
            if pendingCR {
                pendingCR = false
                // A stray CR is a line end of its own; CRLF is one line end.
                endLine(&output)
                if input[i] == 0x0A { i += 1; continue }
            }
            if atLineStart && stuffDots && input[i] == 0x2E { output.append(0x2E) }
            var j = i
            while j < n, input[j] != 0x0D, input[j] != 0x0A { j += 1 }
            if j > i {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<j]))
                atLineStart = false
            }
            if j < n {
                if input[j] == 0x0D { pendingCR = true } else { endLine(&output) }
                j += 1
            }
            i = j
        }
    }

    /// Encodes one chunk and returns the output.
    public mutating func encode<C: Collection>(_ input: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        encode(input, into: &out)
        return out
    }

    /// Ends the data: a final line without a line end gets CRLF, and with `stuffDots` the
    /// terminator `.` CRLF follows (RFC 5321 4.1.1.4).
    public mutating func finish(into output: inout [UInt8]) {
        if pendingCR {
            pendingCR = false
            endLine(&output)
        }
        if !atLineStart { endLine(&output) }
        if stuffDots {
            output.append(contentsOf: [0x2E, 0x0D, 0x0A])
        }
    }

    /// Ends the data and returns the remaining output.
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        finish(into: &out)
        return out
    }

    /// Encodes a whole message at once (convenience for tests and small messages).
    public static func encodeAll(_ message: [UInt8], stuffDots: Bool = true) -> [UInt8] {
        var encoder = DataEncoder(stuffDots: stuffDots)
        var out = encoder.encode(message)
        encoder.finish(into: &out)
        return out
    }

    private mutating func endLine(_ output: inout [UInt8]) {
        output.append(0x0D)
        output.append(0x0A)
        atLineStart = true
    }
}

/// Splits BDAT data into chunks with their command lines (RFC 3030 2): feed encoded bytes,
/// take out `BDAT n` CRLF + n octets whenever `chunkSize` octets are buffered, and
/// `BDAT n LAST` CRLF + the rest at the end (n may be 0).
public struct BDATFramer: Sendable {
    /// Size of every chunk but the last.
    public let chunkSize: Int
    private var buffer: [UInt8] = []

    /// Creates a framer; chunks are at least 1 octet.
    public init(chunkSize: Int = 256 * 1024) {
        self.chunkSize = max(1, chunkSize)
    }

    /// Adds data and returns the framed chunks that are complete.
    public mutating func append(_ data: [UInt8]) -> [[UInt8]] {
        buffer.append(contentsOf: data)
        var frames: [[UInt8]] = []
        while buffer.count >= chunkSize {
            var frame = SMTPCommand.bdat(size: chunkSize, last: false)
            frame.append(contentsOf: buffer[0..<chunkSize])
            buffer.removeSubrange(0..<chunkSize)
            frames.append(frame)
        }
        return frames
    }

    /// Returns the last frame, `BDAT n LAST` and the remaining octets.
    public mutating func finish() -> [UInt8] {
        var frame = SMTPCommand.bdat(size: buffer.count, last: true)
        frame.append(contentsOf: buffer)
        buffer = []
        return frame
    }
}
