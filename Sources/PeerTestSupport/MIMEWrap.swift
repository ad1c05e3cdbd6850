import Foundation

/// The inverse of `MIMESplit`: frames the DER a CMS tool made (cmsutil, gpgsm) as an S/MIME
/// message, as the mail client around that engine would (RFC 8551 3.2-3.5), so that a reader
/// of whole messages (sealctl) gets what a Thunderbird or gpgsm user sends. CRLF throughout.
public enum MIMEWrap {
    /// application/pkcs7-mime with `smimeType` (enveloped-data, signed-data...), base64.
    public static func pkcs7Mime(_ der: [UInt8], smimeType: String, headers: [String]) -> [UInt8] {
        var text = headers.map { $0 + "\r\n" }.joined()
        text += "MIME-Version: 1.0\r\n"
        text += "Content-Type: application/pkcs7-mime; smime-type=\(smimeType); name=\"smime.p7m\"\r\n"
        text += "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n"
        text += base64Lines(der)
        return Array(text.utf8)
    }

    /// multipart/signed (RFC 1847) with `content` (a MIME entity, CRLF) and its detached
    /// signature.
    public static func multipartSigned(content: [UInt8], signature: [UInt8], micalg: String = "sha-256",
                                       headers: [String]) -> [UInt8] {
        let boundary = "peer-" + UUID().uuidString
        var head = headers.map { $0 + "\r\n" }.joined()
        head += "MIME-Version: 1.0\r\n"
        head += "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=\(micalg);\r\n"
        head += "\tboundary=\"\(boundary)\"\r\n\r\n--\(boundary)\r\n"
        var tail = "\r\n--\(boundary)\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
        tail += "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n"
        tail += base64Lines(signature) + "--\(boundary)--\r\n"
        return Array(head.utf8) + content + Array(tail.utf8)
    }

    /// Base64 in 76-column CRLF lines, the last one ended too.
    public static func base64Lines(_ bytes: [UInt8]) -> String {
        let text = Data(bytes).base64EncodedString()
        var out = ""
        var index = text.startIndex
        while index < text.endIndex {
            let end = text.index(index, offsetBy: 76, limitedBy: text.endIndex) ?? text.endIndex
            out += text[index..<end] + "\r\n"
            index = end
        }
        return out
    }
}
