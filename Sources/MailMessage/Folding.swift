/// Header folding (RFC 5322 2.2.3, 2.1.1): lines should be at most 78 characters and must be
/// at most 998. Folding only inserts CRLF before existing white space, so it never changes
/// the field's meaning, and unfolding gives back the same value.
public enum HeaderFolding {
    /// Folds a field body (unfolded, starting after the colon, usually with a leading space).
    /// - Parameters:
    ///   - nameLength: length of the field name (the colon is counted here too).
    ///   - soft: the preferred line length (78).
    /// - Returns: the body with CRLFs inserted before white space where a line would exceed
    ///   `soft`. A word that cannot be split stays whole (it may exceed `soft`, and even 998
    ///   octets: callers check `longestLine` and encode such content instead of cutting it).
    public static func fold(_ value: [UInt8], nameLength: Int, soft: Int = 78) -> [UInt8] {
        if nameLength + 1 + value.count <= soft { return value }
        var out: [UInt8] = []
        out.reserveCapacity(value.count + value.count / soft * 2 + 4)
        var lineLength = nameLength + 1
        var i = 0
        while i < value.count {
            // A word: leading white space run plus the following non-white run.
            var j = i
            while j < value.count, value[j] == 32 || value[j] == 9 { j += 1 }
            while j < value.count, value[j] != 32, value[j] != 9 { j += 1 }
            let wordLength = j - i
            let startsWithSpace = value[i] == 32 || value[i] == 9
            if startsWithSpace, lineLength + wordLength > soft, lineLength > 1, !out.isEmpty || lineLength > nameLength + 1 {
                out.append(13); out.append(10)
                lineLength = 0
            }
            out.append(contentsOf: value[i..<j])
            lineLength += wordLength
            i = j
        }
        return out
    }

    /// The longest physical line of a field as it would be written (`Name:` included).
    public static func longestLine(of field: HeaderField) -> Int {
        var longest = 0
        var current = field.name.utf8.count + 1
        var i = 0
        let v = field.rawValue
        while i < v.count {
            if v[i] == 13, i + 1 < v.count, v[i + 1] == 10 {
                longest = max(longest, current); current = 0; i += 2; continue
            }
            current += 1
            i += 1
        }
        return max(longest, current)
    }

    /// Re-folds a field whose lines exceed 998 octets, where white space allows; other fields
    /// are returned untouched.
    public static func foldIfTooLong(_ field: HeaderField) -> HeaderField {
        guard longestLine(of: field) > 998 else { return field }
        var f = field
        f.rawValue = fold(field.unfoldedValueKeepingLeadingSpace, nameLength: field.name.utf8.count)
        return f
    }
}

extension HeaderField {
    /// The body unfolded, keeping a single leading space as generators write it.
    var unfoldedValueKeepingLeadingSpace: [UInt8] {
        let v = unfoldedValue
        return v.isEmpty ? [] : [32] + v
    }

    /// A field built from an unfolded value, folded at 78 columns.
    public static func folded(name: String, value: [UInt8]) -> HeaderField {
        let body: [UInt8] = value.isEmpty ? [] : [32] + value
        return HeaderField(name: name, rawValue: HeaderFolding.fold(body, nameLength: name.utf8.count))
    }
}
