import MailMessage
import MailPolicy

/// The `secure_tag` of `[smime]` applied to a message's header: the policy (`Policy.decide`)
/// decides from the Subject's text; here the tag is taken out of the Subject fields that are
/// queued, so that neither the outer header nor the protected entity carries it.
enum SubjectTag {
    /// The Subject as text: the first Subject field, RFC 2047 encoded words decoded.
    static func subject(of header: HeaderBlock) -> String? {
        header.first("Subject").map { EncodedWord.decode($0.value) }
    }

    /// `header` with `tag` removed from every Subject field that carries it (other fields,
    /// and Subject fields without it, are kept byte for byte). The raw field is edited when
    /// that gives the intended text (the usual case: the tag outside any encoded word);
    /// otherwise the new text is encoded afresh (RFC 2047, UTF-8). Folded at 78 columns.
    static func removing(_ tag: String, from header: HeaderBlock) -> HeaderBlock {
        var out = header
        for i in out.fields.indices where out.fields[i].is("Subject") {
            let field = out.fields[i]
            let text = EncodedWord.decode(field.value)
            let wanted = Policy.removingTag(tag, from: text)
            guard wanted != text else { continue }
            let edited = Policy.removingTag(tag, from: field.value)
            let value = EncodedWord.decode(edited) == wanted ? edited : EncodedWord.encodeUnstructured(wanted)
            out.fields[i] = HeaderField.folded(name: field.name, value: Array(value.utf8))
        }
        return out
    }
}
