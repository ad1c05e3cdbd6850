/// A set of byte strings (addresses as bytes, so that canonically equivalent Strings stay
/// apart) that is an array searched in order until it holds `hashFrom` members.
///
/// Why not `Set<[UInt8]>` from the start: the first `Set<[UInt8]>` in a process costs the
/// Swift runtime two scans of every protocol conformance in the binary (`[UInt8]: Hashable`
/// is conditional), 0.45M instructions, a sixth of a whole `-odq` submission, for the one or
/// two recipients most messages have. Past `hashFrom` members the Set is built, so a message
/// to thousands of recipients is not quadratic.
public struct ByteStringSet {
    public static let hashFrom = 32

    private var small: [[UInt8]] = []
    private var large: Set<[UInt8]>?

    public init() {}

    /// Adds `member`; false when it was there already.
    @discardableResult
    public mutating func insert(_ member: [UInt8]) -> Bool {
        if large != nil { return large!.insert(member).inserted }
        if small.contains(member) { return false }
        small.append(member)
        if small.count >= Self.hashFrom {
            large = Set(small)
            small = []
        }
        return true
    }

    public func contains(_ member: [UInt8]) -> Bool {
        if let large { return large.contains(member) }
        return small.contains(member)
    }

    public var count: Int { large?.count ?? small.count }
}
