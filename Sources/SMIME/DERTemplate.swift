// Definite-length DER around streamed content (X.690 8.1.3, 10.1; RFC 5652 uses DER or BER).
//
// OpenSSL streams CMS as BER: indefinite lengths (`30 80`) and the content cut into a
// constructed OCTET STRING of chunks. Strict DER readers (Python cryptography, rust-asn1)
// refuse that. When the length of the content is known before it is written, the structure
// can be encoded by OpenSSL (i2d, which is DER) with an empty OCTET STRING where the content
// goes; `DERTemplate` then grows every enclosing length by the content's length and splits the
// encoding into the bytes before the content (ending with its tag and length) and after it.

/// A DER encoding with one primitive element to be streamed: the elements on the paths that are
/// changed are parsed, every other element is kept as its bytes.
struct DERTemplate {
    private indirect enum Node {
        /// A whole element (tag, length, contents) that is not changed.
        case raw([UInt8])
        /// A constructed element on a changed path.
        case constructed(tag: [UInt8], children: [Node])
        /// The primitive element whose contents (this many bytes) are written by the caller.
        case streamed(tag: [UInt8], length: Int)
        /// A primitive element given new contents.
        case replaced(tag: [UInt8], contents: [UInt8])
    }

    /// A step of a path: the first child with this (one-byte) tag.
    typealias Path = [UInt8]

    private var root: Node
    private var streamedPath: Path?

    /// `der` must be one complete DER element (tag, definite length, contents), nothing after it.
    init(_ der: [UInt8]) throws {
        guard let element = try Self.element(der, at: 0), element.end == der.count else {
            throw Self.failure("not one DER element")
        }
        root = .raw(der)
    }

    /// The primitive element at `path` (from the root's children down) is written by the caller:
    /// it must be empty here; `length` octets follow the head.
    mutating func stream(at path: Path, length: Int) throws {
        guard streamedPath == nil, length >= 0 else { throw Self.failure("one streamed element only") }
        root = try Self.change(root, path[...]) { tag, contents in
            guard contents.isEmpty else { throw Self.failure("the placeholder is not empty") }
            return .streamed(tag: tag, length: length)
        }
        streamedPath = path
    }

    /// Gives the primitive element at `path` new contents (a placeholder of the final size for a
    /// value only known after the content, such as an AEAD tag).
    mutating func replace(at path: Path, with contents: [UInt8]) throws {
        root = try Self.change(root, path[...]) { tag, _ in .replaced(tag: tag, contents: contents) }
    }

    /// The encoding before the streamed contents (up to and including its tag and length) and
    /// after them.
    func split() throws -> (head: [UInt8], tail: [UInt8]) {
        guard streamedPath != nil else { throw Self.failure("nothing is streamed") }
        var head: [UInt8] = [], tail: [UInt8] = [], inTail = false
        Self.emit(root, head: &head, tail: &tail, inTail: &inTail)
        return (head, tail)
    }

    // MARK: Tree

    private static func change(_ node: Node, _ path: ArraySlice<UInt8>,
                               _ leaf: ([UInt8], [UInt8]) throws -> Node) throws -> Node {
        guard let step = path.first else {
            guard case .raw(let bytes) = node, let e = try element(bytes, at: 0), !e.constructed else {
                throw failure("the element to change is not primitive")
            }
            return try leaf(Array(bytes[..<tagEnd(bytes)]), Array(bytes[e.contentStart..<e.end]))
        }
        var (tag, children) = try expand(node)
        guard let index = children.firstIndex(where: { tagByte($0) == step }) else {
            throw failure("no element with tag 0x" + String(step, radix: 16))
        }
        children[index] = try change(children[index], path.dropFirst(), leaf)
        return .constructed(tag: tag, children: children)
    }

    private static func expand(_ node: Node) throws -> ([UInt8], [Node]) {
        switch node {
        case .constructed(let tag, let children):
            return (tag, children)
        case .raw(let bytes):
            guard let e = try element(bytes, at: 0), e.constructed else { throw failure("a path goes through a primitive") }
            var children: [Node] = []
            var at = e.contentStart
            while at < e.end {
                guard let child = try element(bytes, at: at), child.end <= e.end else { throw failure("truncated") }
                children.append(.raw(Array(bytes[at..<child.end])))
                at = child.end
            }
            return (Array(bytes[..<tagEnd(bytes)]), children)
        case .streamed, .replaced:
            throw failure("a path goes through a primitive")
        }
    }

    private static func tagByte(_ node: Node) -> UInt8? {
        switch node {
        case .raw(let bytes): return bytes.first
        case .constructed(let tag, _), .streamed(let tag, _), .replaced(let tag, _): return tag.first
        }
    }

    /// The length of the contents of `node`.
    private static func contentLength(_ node: Node) -> Int {
        switch node {
        case .raw(let bytes): return bytes.count
        case .constructed(_, let children): return children.reduce(0) { $0 + encodedLength($1) }
        case .streamed(_, let length): return length
        case .replaced(_, let contents): return contents.count
        }
    }

    /// The length of the whole encoding of `node`.
    private static func encodedLength(_ node: Node) -> Int {
        if case .raw(let bytes) = node { return bytes.count }
        let tag = tagBytes(node), length = contentLength(node)
        return tag.count + lengthOctets(length).count + length
    }

    private static func tagBytes(_ node: Node) -> [UInt8] {
        switch node {
        case .raw: return []
        case .constructed(let tag, _), .streamed(let tag, _), .replaced(let tag, _): return tag
        }
    }

    private static func emit(_ node: Node, head: inout [UInt8], tail: inout [UInt8], inTail: inout Bool) {
        func out(_ bytes: [UInt8]) { if inTail { tail += bytes } else { head += bytes } }
        switch node {
        case .raw(let bytes):
            out(bytes)
        case .constructed(let tag, let children):
            out(tag + lengthOctets(contentLength(node)))
            for child in children { emit(child, head: &head, tail: &tail, inTail: &inTail) }
        case .streamed(let tag, let length):
            out(tag + lengthOctets(length))
            inTail = true
        case .replaced(let tag, let contents):
            out(tag + lengthOctets(contents.count) + contents)
        }
    }

    // MARK: Octets

    /// The definite length octets of `length` in their shortest form (X.690 10.1).
    static func lengthOctets(_ length: Int) -> [UInt8] {
        if length < 0x80 { return [UInt8(length)] }
        var bytes: [UInt8] = []
        var rest = length
        while rest > 0 { bytes.insert(UInt8(rest & 0xFF), at: 0); rest >>= 8 }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    private struct Element { let constructed: Bool; let contentStart: Int; let end: Int }

    /// The element starting at `at`; nil past the end. Throws on an indefinite or overlong length.
    private static func element(_ bytes: [UInt8], at: Int) throws -> Element? {
        guard at < bytes.count else { return nil }
        var i = tagEnd(bytes, from: at)
        guard i < bytes.count else { throw failure("truncated") }
        let first = bytes[i]
        i += 1
        var length = Int(first)
        if first == 0x80 { throw failure("indefinite length") }
        if first > 0x80 {
            let count = Int(first & 0x7F)
            guard count <= 4, i + count <= bytes.count else { throw failure("bad length") }
            length = bytes[i..<(i + count)].reduce(0) { $0 << 8 | Int($1) }
            i += count
        }
        guard i + length <= bytes.count else { throw failure("truncated") }
        return Element(constructed: bytes[at] & 0x20 != 0, contentStart: i, end: i + length)
    }

    /// The index after the identifier octets starting at `from` (X.690 8.1.2).
    private static func tagEnd(_ bytes: [UInt8], from: Int = 0) -> Int {
        var i = from + 1
        if bytes[from] & 0x1F == 0x1F {
            while i < bytes.count && bytes[i] & 0x80 != 0 { i += 1 }
            i += 1
        }
        return i
    }

    private static func failure(_ what: String) -> SMIMEError {
        SMIMEError(.cryptoFailure, "cannot frame the CMS structure as DER: \(what)", openSSLErrors: [])
    }
}
