import COpenSSL

extension Certificate {
    /// The algorithm OIDs (dotted) of the certificate's SMIMECapabilities extension (RFC 4262,
    /// the structure of RFC 8551 2.5.2: a SEQUENCE of SEQUENCEs, each an OID and optional
    /// parameters), in order; empty when the extension is absent or cannot be read.
    public var smimeCapabilities: [String] {
        let index = X509_get_ext_by_NID(pointer, NID_SMIMECapabilities, -1)
        guard index >= 0, let ext = X509_get_ext(pointer, index), let data = X509_EXTENSION_get_data(ext),
              let bytes = ASN1_STRING_get0_data(data) else { return [] }
        return DERCapabilities.oids(Array(UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(data)))))
    }

    /// Whether the certificate announces RSAES-OAEP (RFC 3560, OID 1.2.840.113549.1.1.7) among
    /// its SMIMECapabilities: its holder's client can open OAEP key transport.
    public var advertisesOAEP: Bool { smimeCapabilities.contains("1.2.840.113549.1.1.7") }
}

/// The few DER steps SMIMECapabilities needs (X.690 8.1: tag, length, value).
enum DERCapabilities {
    /// The first OID of each element of the outer SEQUENCE; empty for anything else.
    static func oids(_ der: [UInt8]) -> [String] {
        guard let outer = element(der, at: 0), outer.tag == 0x30 else { return [] }
        var out: [String] = []
        var at = outer.value.lowerBound
        while at < outer.value.upperBound, let item = element(der, at: at), item.value.upperBound <= outer.value.upperBound {
            if item.tag == 0x30, let oid = element(der, at: item.value.lowerBound), oid.tag == 0x06,
               oid.value.upperBound <= item.value.upperBound {
                out.append(dotted(Array(der[oid.value])))
            }
            at = item.value.upperBound
        }
        return out
    }

    /// The tag and value range of the element at `at`, or nil when it runs past the end.
    static func element(_ der: [UInt8], at: Int) -> (tag: UInt8, value: Range<Int>)? {
        guard at + 2 <= der.count else { return nil }
        var length = Int(der[at + 1])
        var start = at + 2
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count >= 1, count <= 4, start + count <= der.count else { return nil }
            length = der[start..<(start + count)].reduce(0) { $0 << 8 | Int($1) }
            start += count
        }
        guard start + length <= der.count else { return nil }
        return (der[at], start..<(start + length))
    }

    /// An OID's content octets in dotted form (X.690 8.19).
    static func dotted(_ bytes: [UInt8]) -> String {
        var arcs: [UInt64] = []
        var value: UInt64 = 0
        for b in bytes {
            value = value << 7 | UInt64(b & 0x7F)
            if b & 0x80 == 0 {
                if arcs.isEmpty {
                    arcs += value < 80 ? [value / 40, value % 40] : [2, value - 80]
                } else {
                    arcs.append(value)
                }
                value = 0
            }
        }
        return arcs.map(String.init).joined(separator: ".")
    }
}
