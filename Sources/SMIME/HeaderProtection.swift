import MailMessage

// RFC 9788 header protection, sending side: which outer fields go inside, what the outer ones
// become, and how the protected entity's header block is marked.

/// The header fields of the outgoing message, split into the outer (unprotected) header and the
/// fields added to the protected entity.
struct ProtectedHeaders {
    /// Fields written outside, before MIME-Version and the S/MIME Content-Type.
    var outer: [HeaderField]
    /// Fields prepended to the protected entity's header block (empty without protection).
    var inner: [HeaderField]
    /// Parameters appended to the protected entity's Content-Type.
    var contentTypeParameters: String
    /// What the outer header hides that a reader shows (RFC 9788 4.5.3); nil when nothing is.
    var legacyDisplay: LegacyDisplay?

    /// Fields that are never copied inside: trace fields belong to the transport.
    private static let transportOnly: Set<String> = ["received", "return-path", "bcc", "resent-bcc"]

    /// Without header protection: everything outside (Bcc never reaches here: the submission
    /// removes it).
    init(plain outer: [HeaderField]) {
        self.outer = outer
        inner = []
        contentTypeParameters = ""
        legacyDisplay = nil
    }

    /// With header protection (RFC 9788 2): the protected entity carries a copy of every
    /// non-trace field. When encrypting, the outer header is what RFC 9788's default header
    /// confidentiality policy, `hcp_baseline`, leaves: Subject becomes `[...]`, Keywords and
    /// Comments are removed, every other field stays as it is; each field left outside is
    /// recorded inside as `HP-Outer` (RFC 9788 2.2), a removed one is not. Signed only, the outer header is unchanged and there
    /// is no `HP-Outer` (`hp="clear"`).
    init(protecting fields: [HeaderField], encrypting: Bool) {
        let copied = fields.filter { !Self.transportOnly.contains($0.lowercasedName) }
        var outer: [HeaderField] = []
        for field in fields where field.lowercasedName != "bcc" {
            guard encrypting else { outer.append(field); continue }
            switch field.lowercasedName {
            case "subject": outer.append(HeaderField.folded(name: field.name, value: Array("[...]".utf8)))
            case "keywords", "comments": continue
            default: outer.append(field)
            }
        }
        var inner = copied
        if encrypting {
            for field in outer where !Self.transportOnly.contains(field.lowercasedName) {
                inner.append(HeaderField(name: "HP-Outer", rawValue: [0x20] + Array(field.name.utf8) + [0x3A] + field.rawValue))
            }
        }
        self.outer = outer
        self.inner = inner
        // The fields hcp_baseline obscures that a reader shows: the Subject (Keywords and
        // Comments, removed, are not shown by readers).
        legacyDisplay = LegacyDisplay(encrypting ? fields.filter { $0.lowercasedName == "subject" }.prefix(1).map {
            let raw = String($0.value.drop { $0 == " " || $0 == "\t" })
            return LegacyDisplay.Field(name: "Subject", text: EncodedWord.decode(raw), raw: raw)
        } : [])
        // `hp` is RFC 9788's marker (2.1.1). `protected-headers="v1"` is the older Autocrypt
        // draft's: RFC 9788 readers go by `hp`, but Thunderbird and K-9 Mail show the protected
        // Subject only with it (Delta Chat sends both for that reason).
        contentTypeParameters = encrypting ? "; hp=\"cipher\"; protected-headers=\"v1\""
                                           : "; hp=\"clear\"; protected-headers=\"v1\""
    }

    /// The protected entity's header block: inner fields, then `contentFields` with the
    /// Content-Type marked.
    func entityFields(_ contentFields: [HeaderField]) -> [HeaderField] {
        guard !contentTypeParameters.isEmpty else { return contentFields }
        let marked = contentFields.map { field -> HeaderField in
            guard field.is("Content-Type") else { return field }
            var marked = field
            marked.rawValue += Array(contentTypeParameters.utf8)
            return marked
        }
        return inner + marked
    }
}
